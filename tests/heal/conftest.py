"""Fixtures of the heal tests: real projects to break, real databases, the CLI."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest


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
