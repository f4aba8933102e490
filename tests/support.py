"""Plain helpers for test modules (import as ``from support import …``; conftest
modules share one import name, so helpers do not live there)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def corpus(name: str) -> Path:
    """A directory of ../shared/corpora; skipped (with the reason) where shared/ is absent."""
    path = CORPORA / name
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"corpus {path} is missing in CI")
        pytest.skip(f"corpus {path} not present (it lives in ../shared beside the clone)")
    return path


# ------------------------------------------------------------------ migrations on PostgreSQL


def apply_files(url: str, directory: Path, paths: list[str] | tuple[str, ...],
                no_transaction: tuple[str, ...] = ()) -> list[tuple[str, str]]:
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
