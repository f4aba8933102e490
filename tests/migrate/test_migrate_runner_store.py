"""The one runner still migrates the audit store, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from calctl.store.postgres import PostgresStore
from calctl.store.sqlite import SqliteStore


def test_store_schema_applies_once_on_sqlite(tmp_path: Path) -> None:
    (tmp_path / "locks").mkdir()
    store = SqliteStore(tmp_path / "calctl.db", lock_dir=tmp_path / "locks")
    try:
        applied = store.migrate()
        assert applied and all(name.endswith(".sql") for name in applied)
        assert store.migrate() == []
        assert store.query("SELECT count(*) AS n FROM calctl_schema_history")[0]["n"] == len(
            applied)
    finally:
        store.close()


def test_store_schema_applies_once_on_postgres(pg_url: str) -> None:
    store = PostgresStore(pg_url)
    try:
        applied = store.migrate()
        assert applied
        assert store.migrate() == []
        assert store.query("SELECT count(*) AS n FROM calctl_schema_history")[0]["n"] == len(
            applied)
    finally:
        store.close()
