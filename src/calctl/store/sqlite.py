"""SQLite backend of the audit store (the default: ``<state dir>/calctl.db``, WAL mode)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from calctl.errors import StateError
from calctl.state import file_lock
from calctl.store.base import Store


class SqliteStore(Store):
    backend = "sqlite"

    def __init__(self, path: Path, *, lock_dir: Path | None = None,
                 busy_timeout: float = 30.0) -> None:
        self.path = path
        self._lock_dir = lock_dir or path.parent
        self._depth = 0
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so one
            # statement outside transaction() commits at once.
            self._conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None,
                                         check_same_thread=False)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            # a calctl.db a repository ships is untrusted: its schema's views and triggers
            # may not call functions with side effects, nor write the schema itself
            self._conn.execute("PRAGMA trusted_schema=OFF")
            setconfig = getattr(self._conn, "setconfig", None)  # Python 3.12+
            defensive = getattr(sqlite3, "SQLITE_DBCONFIG_DEFENSIVE", None)
            if setconfig is not None and defensive is not None:
                setconfig(defensive, True)
        except sqlite3.Error as exc:
            raise StateError(
                f"cannot open the audit store {path}: {exc}",
                hint="Check that the state directory is writable and the file is a SQLite "
                "database, or pass another --state-dir.",
                code="store-unavailable",
            ) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._conn.execute(sql, tuple(params))
        except sqlite3.DatabaseError as exc:
            raise _state_error(self.path, exc) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        try:
            return [dict(row) for row in self._conn.execute(sql, tuple(params)).fetchall()]
        except sqlite3.DatabaseError as exc:
            raise _state_error(self.path, exc) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            self._conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.execute("COMMIT")

    @contextlib.contextmanager
    def schema_lock(self) -> Iterator[None]:
        with file_lock(self._lock_dir / "store-schema.lock", timeout=60.0,
                       purpose="store schema migration"):
            yield

    def close(self) -> None:
        self._conn.close()


def _state_error(path: Path, exc: sqlite3.DatabaseError) -> StateError:
    return StateError(
        f"audit store {path} failed: {exc}",
        hint="If the file is corrupt, move it away; calctl creates a new one.",
        code="store-error",
    )
