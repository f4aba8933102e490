"""PostgreSQL's ``lock_timeout`` and ``statement_timeout`` for each file ``apply`` runs.

A migration that needs a lock a busy table's readers or writers hold waits, and while
it waits every later query on that table queues behind it: production stops. With a
``lock_timeout`` the file fails fast instead, is rolled back whole, and can be tried
again when the table is quieter ([migrate] ``ddl_lock_timeout``, 5 s by default; the
advisory lock between appliers is ``lock_timeout``, another setting).

Set before the file's first statement — ``SET LOCAL`` inside a file's transaction, a
session setting reset after an autocommit file — so a file's own ``SET lock_timeout``
runs later and wins. A failure these caused says so, with the setting to change.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from calctl.migrate.failure import Failure
    from calctl.migrate.statements import Statement


@dataclass(frozen=True)
class Timeouts:
    """Seconds; 0 sets nothing (the server's, role's or database's own value applies)."""

    lock: float = 0.0
    statement: float = 0.0

    def _pairs(self) -> list[tuple[str, str]]:
        return [(name, f"{max(1, round(seconds * 1000))}ms")
                for name, seconds in (("lock_timeout", self.lock),
                                      ("statement_timeout", self.statement)) if seconds > 0]

    def set(self, conn: psycopg.Connection[Any], *, local: bool) -> None:
        """Set them on ``conn``: for the current transaction (``local``), or the session."""
        for name, value in self._pairs():
            conn.execute("SELECT set_config(%s, %s, %s)", (name, value, local))

    def reset(self, conn: psycopg.Connection[Any]) -> None:
        """Undo :meth:`set` with ``local=False`` (after an autocommit file; best effort: a
        connection that broke is closed anyway)."""
        import psycopg

        if conn.broken or conn.closed:
            return
        with contextlib.suppress(psycopg.Error):
            for name, _ in self._pairs():
                conn.execute(f"RESET {name}")

    def explain(self, failure: Failure, ran: list[Statement]) -> Failure:
        """``failure`` in words a person acts on, when one of these timeouts caused it
        (``ran``: the file's statements up to the failing one, to tell ours from a
        ``SET`` of the file's own)."""
        if failure.sqlstate == "55P03" and "lock timeout" in failure.message:
            name, seconds, key = "lock_timeout", self.lock, "ddl_lock_timeout"
            what = "waited longer than {limit} for a lock another session holds"
            hint = ("Another session (a long transaction or query) holds a lock on what the "
                    "statement changes; the file was rolled back. Run apply again when the "
                    "table is quieter, find the holder in pg_stat_activity, or raise "
                    "[migrate] ddl_lock_timeout.")
        elif failure.sqlstate == "57014" and "statement timeout" in failure.message:
            name, seconds, key = "statement_timeout", self.statement, "statement_timeout"
            what = "ran longer than {limit}"
            hint = ("The statement ran longer than allowed; the file was rolled back. Raise "
                    "[migrate] statement_timeout, or split the work into smaller files.")
        else:
            return failure
        own = _SETS.get(name)
        if seconds <= 0 or (own is not None and any(own.match(s.text) for s in ran)):
            limit = f"its {name}"  # the file's own SET (or the server's), not calctl's
            hint = hint.replace(f"raise [migrate] {key}", f"raise the file's {name}")
        else:
            limit = f"{name} of {seconds:g} s ([migrate] {key})"
        # the headline adds file:line:column
        return replace(failure, message=f"{what.format(limit=limit)}: {failure.message}",
                       hint=hint)


_SETS = {name: re.compile(rf"\s*(?:--[^\n]*\n\s*)*set\s+(?:local\s+|session\s+)?{name}\b",
                          re.I) for name in ("lock_timeout", "statement_timeout")}
