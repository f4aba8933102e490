"""The advisory lock that keeps two appliers of one database apart.

A session-level PostgreSQL advisory lock, taken on the migration connection
and held across the per-file transactions. The server drops it when the
session ends, also when calctl is killed, so it can never go stale. A waiter
that gives up names the holder from ``pg_locks`` and ``pg_stat_activity``.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from calctl.errors import LockedError

if TYPE_CHECKING:
    import psycopg

# One lock per database for every calctl applier: 62 bits of sha256("calctl_migrations").
LOCK_KEY = int.from_bytes(hashlib.sha256(b"calctl_migrations").digest()[:8], "big") >> 2


@dataclass(frozen=True)
class Holder:
    pid: int
    application_name: str
    since: str
    client: str
    user: str
    busy_since: str = ""


def holder(conn: psycopg.Connection[Any], key: int = LOCK_KEY) -> Holder | None:
    """Who holds the advisory lock ``key`` in the current database, if anyone."""
    row = conn.execute(
        "SELECT a.pid, a.application_name, a.backend_start, a.xact_start,"
        " a.client_addr, a.usename"
        " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
        " AND l.classid = %s::oid AND l.objid = %s::oid"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (key >> 32, key & 0xFFFFFFFF),
    ).fetchone()
    if row is None:
        return None
    pid, app, since, busy, client, user = row
    return Holder(int(pid), str(app or ""), since.isoformat(timespec="seconds") if since else "",
                  str(client) if client else "local socket", str(user or ""),
                  busy.isoformat(timespec="seconds") if busy else "")


def describe(who: Holder | None) -> str:
    """The holder in words, for the waiting note and the LockedError."""
    if who is None:
        return "another applier (it has just let go; run again)"
    return (f"pid {who.pid} ({who.application_name or 'no application_name'}, "
            f"user {who.user}, from {who.client}, connected since {who.since}"
            + (f", in a transaction since {who.busy_since}" if who.busy_since else "") + ")")


@contextlib.contextmanager
def advisory_lock(conn: psycopg.Connection[Any], *, timeout: float, target: str,
                  key: int = LOCK_KEY,
                  waiting: Callable[[Holder | None], None] | None = None) -> Iterator[None]:
    """Hold the migration lock of ``conn``'s database; wait up to ``timeout`` seconds.

    Waiting uses the server's own ``lock_timeout`` so the waiter wakes the moment
    the holder lets go; before it waits, ``waiting`` hears who holds the lock (a person
    watching a deploy sees why nothing happens). Giving up is a LockedError (exit 3)
    naming the holder.
    """
    import psycopg

    got = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
    if got and got[0]:
        pass
    elif timeout <= 0:
        raise _locked(conn, key, timeout, target)
    else:
        if waiting is not None:
            waiting(holder(conn, key))
        conn.execute(f"SET lock_timeout = '{max(1, int(timeout * 1000))}ms'")
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        except psycopg.errors.LockNotAvailable:
            raise _locked(conn, key, timeout, target) from None
        finally:
            conn.execute("RESET lock_timeout")
    try:
        yield
    finally:
        if not conn.closed:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _locked(conn: psycopg.Connection[Any], key: int, timeout: float, target: str) -> LockedError:
    return LockedError(
        f"migrations of {target} are locked by {describe(holder(conn, key))}; "
        f"waited {timeout:g} s",
        hint="Another `calctl migrate apply` is running; wait for it, raise --lock-timeout, "
        "or stop it (SELECT pg_terminate_backend(pid)).",
        code="migration-locked",
    )
