"""Fixtures of the heal tests: real projects to break, real databases, the CLI."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

# The seed's fault: 011 references users, which 012 creates.
MIGRATIONS = {
    "010_roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text NOT NULL);\n",
    "011_add_admin_roles.sql": (
        "CREATE TABLE admin_roles (\n"
        "  user_id int NOT NULL REFERENCES users (id),\n"
        "  role_id int NOT NULL REFERENCES roles (id)\n"
        ");\n"),
    "012_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n",
}


@pytest.fixture
def new_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """``new_database()`` → the URL of a fresh empty database (all dropped afterwards)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    made: list[str] = []

    def make() -> str:
        name = f"h_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        info = conninfo_to_dict(pg_server_url)
        info["dbname"] = name
        return make_conninfo(**info)

    yield make
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrations_project(root: Path, *, extra: str = "") -> Path:
    """A project with the seed's misordered migrations and a ``migrations`` check
    (heal = true) on the database named by $APP_DATABASE_URL."""
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)
    for name, text in MIGRATIONS.items():
        (root / "migrations" / name).write_text(text, encoding="utf-8")
    (root / "calctl.toml").write_text(
        '[migrate]\ndir = "migrations"\n\n[report]\nproviders = ["memory", "rules"]\n\n'
        + extra + '\n[[guard.checks]]\nname = "schema"\ntype = "migrations"\n'
        'database_url_env = "APP_DATABASE_URL"\nheal = true\n', encoding="utf-8")
    return root
