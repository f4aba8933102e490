"""The audit store's schema runner: applies calctl's own SQL files in order and records
each in a history table.

:meth:`calctl.store.base.Store.migrate` runs calctl's own ``migrations/`` with it
(portable SQL on SQLite and PostgreSQL, history in ``calctl_schema_history``). It
talks to the database through :class:`SqlConnection`, which both backends are.

An application's migrations are not run here but by :mod:`calctl.migrate.engine`
(``migrate apply/status/verify``: advisory lock, the ``calctl_migrations`` history,
error positions, non-transactional files, throwaway databases). Both split with
:mod:`calctl.sql.split` and share :func:`checksum` (an applied file is the same
file to both).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from calctl.errors import StateError

HISTORY_TABLE = "calctl_schema_history"


class SqlConnection(Protocol):
    """The little a runner needs from a database connection (``?`` placeholders)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None: ...

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...

    def transaction(self) -> AbstractContextManager[None]: ...


@dataclass(frozen=True)
class SqlFile:
    """One migration file: its name (relative path), text and checksum."""

    name: str
    text: str

    @property
    def checksum(self) -> str:
        return checksum(self.text)


def checksum(text: str) -> str:
    """sha256 of the text with line endings normalised (CRLF and LF hash the same)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def read_sql_files(directory: Path) -> list[SqlFile]:
    """The ``*.sql`` files directly in ``directory``, in name order."""
    return [
        SqlFile(path.name, path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.sql"))
    ]


def split_statements(text: str) -> list[str]:
    """The statements of ``text``, split by the same splitter the migration engine uses."""
    from calctl.sql.split import split

    return [statement.text for statement in split(text).statements]


def applied(conn: SqlConnection, table: str = HISTORY_TABLE, *,
            create: bool = True) -> dict[str, str]:
    """Names of applied files mapped to their recorded checksums. ``create=False``
    writes nothing: a missing history table is then the database's error."""
    if create:
        ensure_history(conn, table)
    rows = conn.query(f"SELECT name, checksum FROM {table}")
    return {str(r["name"]): str(r["checksum"]) for r in rows}


def ensure_history(conn: SqlConnection, table: str = HISTORY_TABLE) -> None:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {table} ("
        " name TEXT PRIMARY KEY, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )


def pending(conn: SqlConnection, files: Iterable[SqlFile],
            table: str = HISTORY_TABLE, *, create: bool = True) -> list[SqlFile]:
    """Files not yet applied; an applied file whose text changed is a StateError."""
    done = applied(conn, table, create=create)
    todo = []
    for f in files:
        recorded = done.get(f.name)
        if recorded is None:
            todo.append(f)
        elif recorded != f.checksum:
            raise StateError(
                f"migration {f.name} was changed after it was applied "
                f"(recorded sha256 {recorded[:12]}…, now {f.checksum[:12]}…)",
                hint="Restore the applied text and put the change in a new migration file.",
                code="checksum-mismatch",
            )
    return todo


def apply_files(conn: SqlConnection, files: Iterable[SqlFile],
                table: str = HISTORY_TABLE) -> list[str]:
    """Apply every pending file, each in its own transaction with its history row."""
    done: list[str] = []
    for f in pending(conn, files, table):
        with conn.transaction():
            for statement in split_statements(f.text):
                conn.execute(statement)
            conn.execute(
                f"INSERT INTO {table} (name, checksum, applied_at) VALUES (?, ?, ?)",
                (f.name, f.checksum, datetime.now(UTC).isoformat()),
            )
        done.append(f.name)
    return done
