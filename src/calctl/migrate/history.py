"""``calctl_migrations``: the history table in the target database.

One row per file: path, checksum (sha256 of the text with CRLF read as LF),
applied_at, duration_ms, execution_order, calctl_version, success and error.
The row of a successful file is written inside the file's own transaction, so
a file is recorded exactly when its changes are committed. A failed file gets
a row with ``success = false`` after its rollback, so ``status`` can say so.
The applied text is kept too, so ``--repair`` can show what changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from calctl import __version__
from calctl.errors import UsageError

if TYPE_CHECKING:
    import psycopg

TABLE = "calctl_migrations"


@dataclass(frozen=True)
class Row:
    path: str
    checksum: str
    applied_at: datetime | None
    duration_ms: float
    execution_order: int | None
    success: bool
    error: str


def _recordable(path: str) -> str:
    """``path`` as the history stores it; a name that is not UTF-8 (a file name's bytes
    carried as surrogates) is a UsageError naming it, never an encoding crash."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UsageError(f"{shown}: the file name is not valid UTF-8, so it cannot be "
                         "recorded in the history table",
                         hint="Rename the file with a UTF-8 name.",
                         code="bad-file-name") from None
    return path


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class History:
    """The history table of one connection's database, schema-qualified.

    The schema is fixed when the history is opened (the first schema of the
    search path, usually ``public``) so a migration that changes
    ``search_path`` cannot send later history rows elsewhere.
    """

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        row = conn.execute("SELECT coalesce(current_schema(), 'public')").fetchone()
        self.schema = str(row[0]) if row else "public"
        self.table = f"{_ident(self.schema)}.{_ident(TABLE)}"
        self._insert = (
            f"INSERT INTO {self.table} (path, checksum, applied_at, duration_ms,"
            " execution_order, calctl_version, success, error, content, transactional)"
            " VALUES (%s, %s, clock_timestamp(), %s,"
            f" (SELECT coalesce(max(execution_order), 0) + 1 FROM {self.table}),"
            " %s, true, NULL, %s, %s)"
            " ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum,"
            " applied_at = excluded.applied_at, duration_ms = excluded.duration_ms,"
            " execution_order = excluded.execution_order,"
            " calctl_version = excluded.calctl_version, success = true, error = NULL,"
            " content = excluded.content, transactional = excluded.transactional"
        )

    def exists(self) -> bool:
        row = self.conn.execute("SELECT to_regclass(%s)", (self.table,)).fetchone()
        return bool(row and row[0])

    def ensure(self) -> None:
        if self.exists():
            return
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            " path text PRIMARY KEY,"
            " checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),"
            " duration_ms double precision NOT NULL DEFAULT 0,"
            " execution_order integer,"
            " calctl_version text NOT NULL,"
            " success boolean NOT NULL DEFAULT true,"
            " error text,"
            " content text,"
            " transactional boolean NOT NULL DEFAULT true)"
        )

    def rows(self) -> dict[str, Row]:
        """Every recorded file by path (empty when the table does not exist yet)."""
        if not self.exists():
            return {}
        cur = self.conn.execute(
            f"SELECT path, checksum, applied_at, duration_ms, execution_order, success,"
            f" coalesce(error, '') FROM {self.table} ORDER BY execution_order NULLS LAST, path"
        )
        return {
            str(r[0]): Row(str(r[0]), str(r[1]), r[2], float(r[3]), r[4], bool(r[5]), str(r[6]))
            for r in cur.fetchall()
        }

    def content(self, path: str) -> str | None:
        row = self.conn.execute(f"SELECT content FROM {self.table} WHERE path = %s",
                                (path,)).fetchone()
        return None if row is None or row[0] is None else str(row[0])

    def record_success(self, path: str, checksum: str, duration_ms: float, content: str,
                       transactional: bool) -> None:
        """Write the row of an applied file (call it inside the file's transaction)."""
        self.conn.execute(self._insert, (_recordable(path), checksum, duration_ms, __version__,
                                         content, transactional), prepare=True)

    def record_failure(self, path: str, checksum: str, error: str, transactional: bool) -> None:
        """Remember that ``path`` failed (after its rollback); a later success replaces it."""
        self.conn.execute(
            f"INSERT INTO {self.table} (path, checksum, applied_at, duration_ms,"
            " execution_order, calctl_version, success, error, transactional)"
            " VALUES (%s, %s, clock_timestamp(), 0, NULL, %s, false, %s, %s)"
            " ON CONFLICT (path) DO UPDATE SET checksum = excluded.checksum,"
            " applied_at = excluded.applied_at, error = excluded.error,"
            " calctl_version = excluded.calctl_version"
            f" WHERE {self.table}.success = false",
            (_recordable(path), checksum, __version__, error, transactional),
        )

    def repair(self, path: str, checksum: str, content: str) -> None:
        """Accept the file's current text as applied (``--repair``)."""
        self.conn.execute(
            f"UPDATE {self.table} SET checksum = %s, content = %s, calctl_version = %s"
            " WHERE path = %s",
            (checksum, content, __version__, _recordable(path)),
        )
