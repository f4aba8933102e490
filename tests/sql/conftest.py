"""Fixtures for the sql/ tests: apply migration files to a real PostgreSQL database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest


def apply_files(url: str, directory: Path, paths: Sequence[str],
                no_transaction: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Run each file in order; returns (path, first error line) for every failure.

    A failing file is rolled back and the rest still run, so one call shows every
    file the order breaks. Files in ``no_transaction`` run in autocommit.
    """
    import psycopg

    failures: list[tuple[str, str]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for path in paths:
            sql = (directory / path).read_text(encoding="utf-8")
            try:
                if path in no_transaction:
                    conn.execute(sql)  # type: ignore[call-overload]
                else:
                    with conn.transaction():
                        conn.execute(sql)  # type: ignore[call-overload]
            except psycopg.Error as exc:
                failures.append((path, str(exc).splitlines()[0]))
    return failures


@pytest.fixture
def pg_apply() -> Callable[..., Any]:
    """``pg_apply(url, directory, paths)`` → [(path, error)] of the files that failed."""
    return apply_files
