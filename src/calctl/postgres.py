"""PostgreSQL connections: the one adapter module every part of calctl connects through.

The audit store (:mod:`calctl.store.postgres`) and the application database that
``migrate`` works on (:mod:`calctl.migrate`) open their connections here; errors
become an ExternalError (exit 4) or a UsageError that never shows the password, and
:func:`describe_target` is how a database is named in messages and documents.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from calctl.errors import ExternalError, UsageError

if TYPE_CHECKING:
    import psycopg


def connect(url: str, *, purpose: str, connect_timeout: int = 10) -> psycopg.Connection[Any]:
    """An autocommit connection named after ``purpose`` (visible in pg_stat_activity).

    Failures (unreachable server, wrong password, missing database) become an
    ExternalError (exit 4) whose message never shows the password.
    """
    import psycopg

    check_scheme(url)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout,
                               application_name=f"{purpose} (pid {os.getpid()})")
    except psycopg.Error as exc:
        raise connection_error(url, exc) from None
    except Exception as exc:  # a malformed URL makes libpq raise before connecting
        from calctl.redact import mask_dsn

        raise UsageError(f"invalid database URL {mask_dsn(url)!r}: "
                         f"{mask_dsn(str(exc))}", code="bad-database-url") from None
    prepare_session(conn)
    return conn


_POSTGRES_SCHEMES = ("postgresql", "postgres")


def check_scheme(url: str) -> None:
    """Refuse (exit 2, invalid input) the URL of another database system: libpq would read
    ``mysql://…`` as a connection failure (exit 4), as if a PostgreSQL server were down.
    A libpq ``key=value`` string (no scheme) passes."""
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.lower() in _POSTGRES_SCHEMES:
        return
    from calctl.redact import mask_dsn

    raise UsageError(
        f"{mask_dsn(url)!r} is a {scheme} URL, and calctl works with PostgreSQL only "
        "(postgresql:// or postgres://)",
        hint="Pass the URL of a PostgreSQL database, e.g. postgresql://user@host:5432/app.",
        code="bad-database-url",
    )


def prepare_session(conn: psycopg.Connection[Any]) -> None:
    """Session settings calctl relies on (again after a file's SETs were reset)."""
    if conn.info.server_version >= 140000:
        # Lets the server notice promptly that calctl died (kill -9) mid-statement
        # and roll the file back, instead of finishing a long statement first.
        conn.execute("SET client_connection_check_interval = 1000")


def reset_session(conn: psycopg.Connection[Any]) -> None:
    """Undo a file's SETs so the next file starts as under ``psql -f`` (as Flyway does)."""
    conn.execute("RESET ALL")
    conn.execute("RESET ROLE")
    conn.execute("RESET SESSION AUTHORIZATION")
    prepare_session(conn)


def connect_rows(url: str, *, connect_timeout: int = 10,
                 autocommit: bool = True) -> psycopg.Connection[Any]:
    """A connection whose rows are dicts (the audit store's); failures become ExternalError
    naming host and port."""
    import psycopg
    from psycopg.rows import dict_row

    check_scheme(url)
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
