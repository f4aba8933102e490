"""The audit store's --store-url, URLs of other databases, `events --since 10m`, `init`
finding the migration directory, piped tables at full width, and "1 file" (real CLI)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from calctl.config import Settings
from calctl.events.log import EventLog
from calctl.store import open_store

SRC = Path(__file__).resolve().parents[2] / "src" / "calctl"


# ------------------------------------------------------------------ --store-url


def test_the_global_database_url_is_refused_naming_both(calctl: Any, project: Path) -> None:
    for extra in ((), ("--json",)):
        result = calctl("--database-url", "postgresql://u:hunter2@h/app", *extra, "migrate",
                        "apply", cwd=project)
        assert result.returncode == 2
        assert ("calctl: error: calctl --database-url is no longer a global option: pass "
                "--store-url for the audit store, or --database-url after `migrate apply` "
                "(status, verify) for the database to migrate") in result.stderr
        assert "hunter2" not in result.stdout + result.stderr
    assert result.json()["code"] == "renamed-option"


def test_the_missing_target_says_it_is_the_database_to_migrate(calctl: Any,
                                                                project: Path) -> None:
    (project / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id bigint);\n")
    for command in ("apply", "status"):
        result = calctl("--store-url", "postgresql://nobody@127.0.0.1:1/audit", "migrate",
                        command, cwd=project)
        assert result.returncode == 2, result.stderr
        assert (f"no target database for `migrate {command}` (the database to migrate): pass "
                f"--database-url after `migrate {command}`, set DATABASE_URL") in result.stderr
        assert "--store-url (CALCTL_STORE_URL) names the audit store" in result.stderr


def _store_tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()}


def test_store_url_flag_env_and_the_old_config_key(calctl: Any, project: Path,
                                                  pg_url: str) -> None:
    (project / ".git").mkdir()
    flag = calctl("--store-url", pg_url, "history", "--json", cwd=project)
    assert flag.returncode == 0, flag.stderr
    assert flag.json()["kind"] == "history"
    assert "guardian_bug_reports" in _store_tables(pg_url)  # the store went to PostgreSQL

    env = calctl("config", "show", "--json", cwd=project, env={"CALCTL_STORE_URL": pg_url})
    assert env.json()["settings"]["store_url"]["source"] == "env CALCTL_STORE_URL"

    # the old top-level key is still read, as store_url, and says so where it came from
    (project / "calctl.toml").write_text(
        'database_url = "postgresql://calctl@db.example/audit"\n[migrate]\ndir = "migrations"\n')
    old = calctl("config", "show", "--json", cwd=project)
    assert old.returncode == 0, old.stderr
    shown = old.json()["settings"]["store_url"]
    assert shown["value"] == "postgresql://calctl@db.example/audit"
    assert shown["source"].endswith("calctl.toml:1 (database_url, the old name of store_url)")
    assert "database_url" not in old.json()["settings"]


# ------------------------------------------------------------------ other databases


@pytest.mark.parametrize("args", [
    ("migrate", "apply", "--database-url", "mysql://app:s3cret@db/app"),
    ("migrate", "status", "--database-url", "mysql://app:s3cret@db/app"),
    ("migrate", "verify", "--database-url", "mysql://app:s3cret@db/app"),
    ("--store-url", "mysql://app:s3cret@db/app", "history"),
    ("--store-url", "sqlite:///tmp/x.db", "stats"),
], ids=["apply", "status", "verify", "store", "sqlite-store"])
def test_a_url_of_another_database_is_invalid_input(calctl: Any, project: Path,
                                                    args: tuple[str, ...]) -> None:
    (project / ".git").mkdir()
    (project / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id bigint);\n")
    result = calctl(*args, cwd=project)
    assert result.returncode == 2, result.stderr
    scheme = args[-1 if args[0] == "migrate" else 1].split(":")[0]
    assert (f"is a {scheme} URL, and calctl works with PostgreSQL only (postgresql:// or "
            "postgres://)") in result.stderr
    assert "s3cret" not in result.stderr


# ------------------------------------------------------------------ events --since


def test_events_since_a_duration(calctl: Any, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    settings = Settings.resolve(cwd=tmp_path, env={})
    log_path = settings.state_dir / "events.jsonl"
    with open_store(settings) as store, EventLog(log_path, store) as log:
        for name in ("three.days", "two.hours", "twenty.minutes", "now"):
            log.emit(name, name)
    now = datetime.now(UTC)
    ages = {"three.days": timedelta(days=3), "two.hours": timedelta(hours=2),
            "twenty.minutes": timedelta(minutes=20), "now": timedelta(0)}
    lines = []
    for line in log_path.read_text().splitlines():
        event = json.loads(line)
        event["ts"] = (now - ages[event["type"]]).isoformat(timespec="microseconds")
        lines.append(json.dumps(event))
    log_path.write_text("\n".join(lines) + "\n")

    def since(value: str) -> list[str]:
        result = calctl("events", "--json", "--since", value, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return [json.loads(x)["type"] for x in result.stdout.splitlines()]

    assert since("10m") == ["now"]
    assert since("30m") == ["twenty.minutes", "now"]
    assert since("3h") == since("180m") == since("10800s") == ["two.hours", "twenty.minutes",
                                                               "now"]
    assert since("4d") == ["three.days", "two.hours", "twenty.minutes", "now"]
    assert since("1.5h") == ["twenty.minutes", "now"]
    assert since((now - timedelta(hours=1)).isoformat()) == ["twenty.minutes", "now"]
    bad = calctl("events", "--since", "10 parsecs", cwd=tmp_path)
    assert bad.returncode == 2 and "90s, 10m, 2h, 7d" in bad.stderr


# ------------------------------------------------------------------ init


@pytest.mark.parametrize(("layout", "files", "order"), [
    ("db/migrations", {"20240101000000_users.sql": "-- migrate:up\nCREATE TABLE u (id bigint);\n"
                       "-- migrate:down\nDROP TABLE u;\n"}, "dbmate"),
    ("prisma/migrations", {"20240101_init/migration.sql": "CREATE TABLE u (id bigint);\n",
                           "migration_lock.toml": 'provider = "postgresql"\n'}, "prisma"),
    ("src/main/resources/db/migration", {"V1__init.sql": "CREATE TABLE u (id bigint);\n"},
     "flyway"),
    ("sql/migrations", {"001_init.sql": "CREATE TABLE u (id bigint);\n"}, "natural"),
])
def test_init_finds_the_migration_directory(calctl: Any, tmp_path: Path, layout: str,
                                            files: dict[str, str], order: str) -> None:
    root = tmp_path / "app"
    (root / ".git").mkdir(parents=True)
    (root / "docs").mkdir()  # not migrations
    for name, text in files.items():
        (root / layout / name).parent.mkdir(parents=True, exist_ok=True)
        (root / layout / name).write_text(text)
    done = calctl("init", cwd=root)
    assert done.returncode == 0, done.stderr
    assert f'[migrate] dir = "{layout}"' in done.stderr and "found 1 migration in" in done.stderr
    shown = calctl("config", "show", "--json", cwd=root).json()["settings"]["migrate.dir"]
    assert shown["value"] == layout and shown["source"].startswith(str(root / "calctl.toml"))
    plan = calctl("migrate", "order", "--json", cwd=root)  # no DIR needed any more
    assert plan.returncode == 0, plan.stderr
    assert plan.json()["order"] == order and len(plan.json()["files"]) == 1
    again = calctl("init", "--force", "--json", str(root), cwd=tmp_path)
    assert again.json()["migrations_dir"] == layout


def test_init_without_migrations_keeps_the_default(calctl: Any, tmp_path: Path) -> None:
    (tmp_path / "empty" / "db" / "migrations").mkdir(parents=True)  # empty: not chosen
    done = calctl("init", "--json", str(tmp_path / "empty"), cwd=tmp_path)
    assert done.returncode == 0 and done.json()["migrations_dir"] is None
    assert 'dir = "migrations"' in (tmp_path / "empty" / "calctl.toml").read_text()


# ------------------------------------------------------------------ piped width


def test_piped_tables_are_not_cut_at_80_columns(calctl: Any, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    wide = ",".join(f"schema_number_{n}" for n in range(12))  # ~200 characters
    env = {"COLUMNS": "", "CALCTL_MIGRATE_SEARCH_PATH": wide}  # no COLUMNS: rich's 80
    shown = calctl("config", "show", cwd=tmp_path, env=env)
    assert shown.returncode == 0
    (row,) = [line for line in shown.stdout.splitlines() if "migrate.search_path" in line]
    assert "schema_number_11" in row and len(row.rstrip()) > 200  # one line, whole

    rules = calctl("migrate", "rules", cwd=tmp_path, env={"COLUMNS": ""})
    listed = calctl("migrate", "rules", "--json", cwd=tmp_path).json()["rules"]
    lines = rules.stdout.splitlines()
    assert len(lines) == len(listed) + 1  # a header and one line per rule: nothing wrapped
    for rule, line in zip(listed, lines[1:], strict=True):
        assert rule["code"] in line and rule["summary"] in line


# ------------------------------------------------------------------ 1 file, 2 files


def test_one_file_is_singular(calctl: Any, project: Path, pg_url: str) -> None:
    (project / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id bigint);\n")
    assert "1 file checked: 0 errors, 0 warnings" in calctl("migrate", "lint",
                                                            cwd=project).stdout
    assert "filename order is safe (1 file; 0 errors, 0 warnings)" in calctl(
        "migrate", "order", "--check", cwd=project).stdout
    env = {"DATABASE_URL": pg_url}
    assert "applied 1 file in" in calctl("migrate", "apply", cwd=project, env=env).stdout
    assert "nothing to apply: 1 file already applied" in calctl("migrate", "apply",
                                                                cwd=project, env=env).stdout


def test_no_message_says_file_s() -> None:
    """"file(s)", "fix(es)": every count in calctl's messages picks its own form."""
    found = [f"{path.relative_to(SRC)}:{number}: {line.strip()}"
             for path in sorted(SRC.rglob("*.py"))
             for number, line in enumerate(path.read_text().splitlines(), start=1)
             if re.search(r"[a-z]\((e?s)\)[ :;\"']", line)]
    assert found == []
