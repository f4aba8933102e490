"""The application database ``migrate`` works on: finding its URL and connecting to it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from calctl.errors import ExternalError, UsageError

if TYPE_CHECKING:
    import psycopg

    from calctl.config import MigrateSettings


def resolve_url(flag: str | None, settings: MigrateSettings,
                env: Mapping[str, str] | None = None, *, required: bool = True) -> str | None:
    """The target URL: ``--database-url``, else ``$<database_url_env>``, else the setting."""
    environ = os.environ if env is None else env
    url = flag or environ.get(settings.database_url_env) or settings.database_url or None
    if url is None and required:
        raise UsageError(
            "no database to migrate: pass --database-url or set "
            f"{settings.database_url_env}",
            hint=f"For example: export {settings.database_url_env}="
            "postgresql://user@host:5432/app (the password from PGPASSWORD or ~/.pgpass).",
            code="no-database-url",
        )
    return url


def connect(url: str, *, purpose: str, connect_timeout: int = 10) -> psycopg.Connection[Any]:
    """An autocommit connection named after ``purpose`` (visible in pg_stat_activity).

    Failures (unreachable server, wrong password, missing database) become an
    ExternalError (exit 4) whose message never shows the password.
    """
    import psycopg

    from calctl.store.postgres import connection_error

    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout,
                               application_name=f"{purpose} (pid {os.getpid()})")
    except psycopg.Error as exc:
        raise connection_error(url, exc) from None
    except Exception as exc:  # a malformed URL makes libpq raise before connecting
        from calctl.config import mask_dsn

        raise UsageError(f"invalid database URL {mask_dsn(url)!r}: "
                         f"{mask_dsn(str(exc))}", code="bad-database-url") from None
    prepare_session(conn)
    return conn


def prepare_session(conn: psycopg.Connection[Any]) -> None:
    """Session settings calctl relies on (again after a file's SETs were reset)."""
    if conn.info.server_version >= 140000:
        # Lets the server notice promptly that calctl died (kill -9) mid-statement
        # and roll the file back, instead of finishing a long statement first.
        conn.execute("SET client_connection_check_interval = 1000")


# A statement that changes session state beyond its transaction (not SET LOCAL).
_SESSION_CHANGE = re.compile(r"(?:^|;)\s*(?:set|reset)\s+(?!local\b)", re.I | re.M)


def changes_session(text: str) -> bool:
    """Does a file change session settings (search_path, role …) that would leak onward?"""
    return bool(_SESSION_CHANGE.search(text))


def reset_session(conn: psycopg.Connection[Any]) -> None:
    """Undo a file's SETs so the next file starts as under ``psql -f`` (as Flyway does)."""
    conn.execute("RESET ALL")
    conn.execute("RESET ROLE")
    conn.execute("RESET SESSION AUTHORIZATION")
    prepare_session(conn)


def lost(url: str, exc: Exception) -> ExternalError:
    """The connection broke while working (server restarted, network gone)."""
    from calctl.store.postgres import connection_error

    return connection_error(url, exc)
