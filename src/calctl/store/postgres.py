"""PostgreSQL backend of the audit store (``--database-url`` / ``CALCTL_DATABASE_URL``).

Several hosts then share one audit trail; events are also sent with NOTIFY on
channel ``calctl_events``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from calctl.errors import ExternalError, StateError
from calctl.store.base import Store

if TYPE_CHECKING:
    import psycopg

NOTIFY_CHANNEL = "calctl_events"
SCHEMA_LOCK_KEY = 0x63616C63746C  # "calctl": one advisory lock id for store migrations


def _placeholders(sql: str) -> str:
    """Turn our ``?`` placeholders into psycopg's ``%s`` (no ``?`` appears in our literals)."""
    return sql.replace("%", "%%").replace("?", "%s")


def connect(url: str, *, connect_timeout: int = 10,
            autocommit: bool = True) -> psycopg.Connection[Any]:
    """Open a psycopg connection; failures become ExternalError naming host and port."""
    import psycopg
    from psycopg.rows import dict_row

    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout,
                               row_factory=dict_row)
    except psycopg.Error as exc:
        raise connection_error(url, exc) from exc


def describe_target(url: str) -> str:
    """``host:port/dbname`` of a libpq URL or key=value string, without the password."""
    from psycopg.conninfo import conninfo_to_dict

    from calctl.redact import mask_secrets, normalized_url

    try:
        # a raw "@", "/" or "?" in the password must not make the rest of it the host
        info = conninfo_to_dict(normalized_url(url))
    except Exception:
        return "<unparseable database URL>"
    host = str(info.get("host") or "localhost")
    port = str(info.get("port") or "5432")
    db = str(info.get("dbname") or info.get("user") or "")
    return mask_secrets(f"{host}:{port}/{db}", url)


def connection_error(url: str, exc: Exception) -> ExternalError:
    from calctl.redact import mask_secrets

    # libpq quotes the password back in some messages (and the part of one after a raw
    # "@" as the host); never let it through.
    detail = mask_secrets(
        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, url)
    return ExternalError(
        f"cannot connect to PostgreSQL at {describe_target(url)}: {detail}",
        hint="Check that the server runs and the URL (user, host, port, database) is right; "
        "the password comes from the URL, PGPASSWORD or ~/.pgpass.",
        code="database-unavailable",
    )


class PostgresStore(Store):
    backend = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self._conn = connect(url)
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
