"""PostgreSQL backend of the audit store (``--store-url`` / ``CALCTL_STORE_URL``).

Several hosts then share one audit trail; events are also sent with NOTIFY on
channel ``calctl_events``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from calctl.errors import StateError
from calctl.postgres import connect_rows, connection_error
from calctl.store.base import Store

if TYPE_CHECKING:
    pass

NOTIFY_CHANNEL = "calctl_events"
SCHEMA_LOCK_KEY = 0x63616C63746C  # "calctl": one advisory lock id for store migrations


def _placeholders(sql: str) -> str:
    """Turn our ``?`` placeholders into psycopg's ``%s`` (no ``?`` appears in our literals)."""
    return sql.replace("%", "%%").replace("?", "%s")


class PostgresStore(Store):
    backend = "postgres"
    row_lock = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = connect_rows(url)
        self._depth = 0

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        import psycopg

        try:
            self._conn.execute(_placeholders(sql) if params else sql, tuple(params) or None)
        except psycopg.OperationalError as exc:
            raise connection_error(self.url, exc) from exc
        except psycopg.Error as exc:
            raise StateError(f"audit store query failed: {exc}", code="store-error") from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        import psycopg

        try:
            cur = self._conn.execute(_placeholders(sql) if params else sql, tuple(params) or None)
            return list(cur.fetchall())
        except psycopg.OperationalError as exc:
            raise connection_error(self.url, exc) from exc
        except psycopg.Error as exc:
            raise StateError(f"audit store query failed: {exc}", code="store-error") from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._conn.transaction():
            yield

    @contextlib.contextmanager
    def schema_lock(self) -> Iterator[None]:
        self.execute("SELECT pg_advisory_lock(?)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            self.execute("SELECT pg_advisory_unlock(?)", (SCHEMA_LOCK_KEY,))

    def add_event(self, event_id: str, ts: str, type_: str, subject: str,
                  data: dict[str, Any], pid: int | None) -> None:
        super().add_event(event_id, ts, type_, subject, data, pid)
        # NOTIFY payloads are capped at 8000 bytes: send the id, listeners read the row.
        self.execute("SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, event_id))

    def close(self) -> None:
        self._conn.close()
