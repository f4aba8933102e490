"""``migrate apply`` sets lock_timeout ([migrate] ddl_lock_timeout) and statement_timeout
for every file: a migration waiting on a busy table fails fast, whole, and is not recorded
(real CLI, real PostgreSQL, a real second session holding the lock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pgmig import exists, history, query, write


def _config(project: Path, extra: str) -> None:
    (project / "calctl.toml").write_text(f'[migrate]\ndir = "migrations"\n{extra}',
                                         encoding="utf-8")


@pytest.fixture
def busy(project: Path, pg_url: str, calctl: Any) -> Iterator[psycopg.Connection[Any]]:
    """Table ``accounts`` applied, then read by another session's open transaction (its
    ACCESS SHARE lock blocks any ALTER TABLE until it ends)."""
    write(project, "001_accounts.sql", "CREATE TABLE accounts (id int);\n")
    first = calctl("migrate", "apply", cwd=project, env={"DATABASE_URL": pg_url})
    assert first.returncode == 0, first.stderr
    reader = psycopg.connect(pg_url)  # not autocommit: the SELECT opens a transaction
    reader.execute("SELECT count(*) FROM accounts").fetchall()
    try:
        yield reader
    finally:
        reader.close()


def test_a_busy_table_fails_the_file_within_ddl_lock_timeout(
        project: Path, pg_url: str, calctl: Any, busy: psycopg.Connection[Any]) -> None:
    _config(project, "ddl_lock_timeout = 1\n")
    write(project, "002_add_email.sql",
          "CREATE TABLE side_effect (id int);\n"
          "ALTER TABLE accounts ADD COLUMN email text;\n")
    started = time.monotonic()
    result = calctl("migrate", "apply", cwd=project, env={"DATABASE_URL": pg_url})
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert 1.0 <= elapsed < 8, elapsed  # ~1 s of waiting (+ start-up), never the minutes a
    # default lock_timeout = 0 would wait behind the reader
    assert ("002_add_email.sql:2:1: waited longer than lock_timeout of 1 s ([migrate] "
            "ddl_lock_timeout) for a lock another session holds: canceling statement due to "
            "lock timeout [SQLSTATE 55P03]") in result.stderr
    assert "the file was rolled back; nothing after it ran." in result.stderr
    assert not exists(pg_url, "side_effect")  # nothing half-applied
    assert history(pg_url) == ["001_accounts.sql"]  # not recorded as applied
    busy.rollback()  # the reader is done: the same file applies now
    again = calctl("migrate", "apply", cwd=project, env={"DATABASE_URL": pg_url})
    assert again.returncode == 0, again.stderr
    assert history(pg_url) == ["001_accounts.sql", "002_add_email.sql"]


def test_the_default_is_5_seconds_and_json_says_so(
        project: Path, pg_url: str, calctl: Any, busy: psycopg.Connection[Any]) -> None:
    write(project, "002_add_email.sql", "ALTER TABLE accounts ADD COLUMN email text;\n")
    started = time.monotonic()
    result = calctl("migrate", "apply", "--json", cwd=project, env={"DATABASE_URL": pg_url})
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert 5.0 <= elapsed < 12, elapsed
    finding = result.json()
    assert finding["kind"] == "finding" and finding["sqlstate"] == "55P03"
    assert finding["file"] == "migrations/002_add_email.sql" and finding["line"] == 1
    assert "lock_timeout of 5 s ([migrate] ddl_lock_timeout)" in finding["error"]
    assert "pg_stat_activity" in finding["hint"]


def test_a_files_own_set_lock_timeout_wins(
        project: Path, pg_url: str, calctl: Any, busy: psycopg.Connection[Any]) -> None:
    _config(project, "ddl_lock_timeout = 0.5\n")
    write(project, "002_patient.sql",
          "SET lock_timeout = '20s';\n"
          "ALTER TABLE accounts ADD COLUMN email text;\n")
    threading.Timer(2.0, busy.rollback).start()  # the reader finishes after 2 s
    started = time.monotonic()
    result = calctl("migrate", "apply", cwd=project, env={"DATABASE_URL": pg_url})
    assert result.returncode == 0, result.stderr  # waited past our 0.5 s: the file's 20 s
    assert time.monotonic() - started >= 2.0
    assert history(pg_url) == ["001_accounts.sql", "002_patient.sql"]


def test_a_files_own_lock_timeout_is_named_when_it_fires(
        project: Path, pg_url: str, calctl: Any, busy: psycopg.Connection[Any]) -> None:
    write(project, "002_impatient.sql",
          "SET lock_timeout = '300ms';\nALTER TABLE accounts ADD COLUMN email text;\n")
    result = calctl("migrate", "apply", cwd=project, env={"DATABASE_URL": pg_url})
    assert result.returncode == 1
    assert "waited longer than its lock_timeout for a lock" in result.stderr
    assert "ddl_lock_timeout" not in result.stderr


def test_statement_timeout_when_set(project: Path, pg_url: str, calctl: Any) -> None:
    _config(project, "statement_timeout = 1\n")
    write(project, "001_slow.sql", "CREATE TABLE before_sleep (id int);\n"
                                   "SELECT pg_sleep(5);\n")
    result = calctl("migrate", "apply", cwd=project, env={"DATABASE_URL": pg_url})
    assert result.returncode == 1, result.stderr
    assert ("001_slow.sql:2:1: ran longer than statement_timeout of 1 s ([migrate] "
            "statement_timeout): canceling statement due to statement timeout") in result.stderr
    assert not exists(pg_url, "before_sleep") and history(pg_url) == []


def test_each_file_sees_the_settings_and_the_session_is_reset(
        project: Path, pg_url: str, calctl: Any) -> None:
    """In a transaction (SET LOCAL) and outside one (a session SET, reset after the file)."""
    _config(project, "ddl_lock_timeout = 2.5\nstatement_timeout = 90\n")
    seen = ("CREATE TABLE {} AS SELECT current_setting('lock_timeout') AS lock_t,"
            " current_setting('statement_timeout') AS statement_t;\n")
    write(project, "001_in_tx.sql", seen.format("in_tx"))
    write(project, "002_outside.sql", "-- calctl: no-transaction\n" + seen.format("outside")
          + "CREATE INDEX CONCURRENTLY outside_lock ON outside (lock_t);\n")
    result = calctl("migrate", "apply", cwd=project, env={"DATABASE_URL": pg_url})
    assert result.returncode == 0, result.stderr
    for table in ("in_tx", "outside"):
        assert query(pg_url, f"SELECT lock_t, statement_t FROM {table}") == [("2500ms", "90s")]


def test_engine_resets_the_session_after_an_autocommit_file(pg_url: str,
                                                            tmp_path: Path) -> None:
    from calctl.config import MigrateSettings
    from calctl.migrate.engine import ApplyOptions, apply
    from calctl.migrate.timeouts import Timeouts
    from calctl.migrate.units import load_units

    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "001_a.sql").write_text("-- calctl: no-transaction\nCREATE TABLE a (id int);\n")
    units = load_units(directory, MigrateSettings(), order="filename", cache_dir=None)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        default = conn.execute("SHOW lock_timeout").fetchone()
        outcome = apply(conn, units, ApplyOptions(timeouts=Timeouts(lock=3, statement=4)))
        assert outcome.failure is None and [s.status for s in outcome.steps] == ["applied"]
        assert conn.execute("SHOW lock_timeout").fetchone() == default
        assert conn.execute("SHOW statement_timeout").fetchone() == ("0",)
