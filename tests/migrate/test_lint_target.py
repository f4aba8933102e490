"""``migrate lint`` with the target database: tables created by files the target has not
applied count as new (a real PostgreSQL), and ``applied_paths`` reads its history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calctl.config import MigrateSettings
from calctl.migrate.applied import applied_paths

FILES = {
    "001_accounts.sql": "CREATE TABLE accounts (id bigint, email text);\n",
    "002_index.sql": "CREATE INDEX accounts_email ON accounts (email);\n",
}


def _project(root: Path) -> Path:
    (root / "migrations").mkdir(parents=True)
    for name, text in FILES.items():
        (root / "migrations" / name).write_text(text, encoding="utf-8")
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n', encoding="utf-8")
    return root


def _cal011(calctl: Any, root: Path, *args: str, env: dict[str, str] | None = None,
            ) -> list[str]:
    result = calctl("migrate", "lint", "--json", *args, cwd=root, env=env)
    assert result.returncode in (0, 1), result.stderr
    return [p["path"] for p in result.json()["problems"] if p["code"] == "CAL011"]


def test_tables_of_unapplied_files_are_new(calctl: Any, tmp_path: Path, pg_url: str) -> None:
    root = _project(tmp_path)
    # without a database, the table of an earlier file exists
    assert _cal011(calctl, root) == ["002_index.sql"]
    # nothing applied: accounts is created by a file the target lacks, nobody writes to it
    assert _cal011(calctl, root, "--database-url", pg_url) == []
    assert applied_paths(pg_url, root / "migrations", MigrateSettings()) == frozenset()
    applied = calctl("migrate", "apply", "--to", "001_accounts.sql", "--database-url", pg_url,
                     cwd=root)
    assert applied.returncode == 0, applied.stderr
    assert applied_paths(pg_url, root / "migrations", MigrateSettings()) == {"001_accounts.sql"}
    # now the table exists on the target: a plain CREATE INDEX blocks its writes
    assert _cal011(calctl, root, "--database-url", pg_url) == ["002_index.sql"]


def test_only_an_explicit_target_is_read(calctl: Any, tmp_path: Path, pg_url: str) -> None:
    """``$DATABASE_URL`` in a CI job is often an empty test database: read implicitly, it
    would make every table new and silence the locking rules. Lint reads a target only
    when ``--database-url`` names it."""
    root = _project(tmp_path)
    assert _cal011(calctl, root, env={"DATABASE_URL": pg_url}) == ["002_index.sql"]
    result = calctl("migrate", "lint", "--json", cwd=root, env={"DATABASE_URL": pg_url})
    assert "has applied" not in result.stderr


def test_an_unreachable_target_is_exit_4(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = calctl("migrate", "lint", "--database-url",
                    "postgresql://nobody@127.0.0.1:1/none", cwd=root)
    assert result.returncode == 4


def test_applied_paths_reads_another_tool_s_history(tmp_path: Path, pg_url: str) -> None:
    """A database golang-migrate migrated (no calctl_migrations yet): its history counts,
    as for migrate status."""
    import psycopg

    directory = tmp_path / "migrations"
    directory.mkdir()
    for name, text in {"1_users.up.sql": "CREATE TABLE users (id bigint);\n",
                       "2_posts.up.sql": "CREATE TABLE posts (id bigint);\n",
                       "10_tags.up.sql": "CREATE TABLE tags (id bigint);\n"}.items():
        (directory / name).write_text(text, encoding="utf-8")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY,"
                     " dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, false)")
    assert applied_paths(pg_url, directory, MigrateSettings()) == {"1_users.up.sql",
                                                                   "2_posts.up.sql"}
