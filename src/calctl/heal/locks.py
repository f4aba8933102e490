"""One healer per project at a time.

Locally, ``locks/heal.lock`` in the state directory (the kernel lets go when the
process dies). When the audit store is PostgreSQL, also a session-level advisory
lock on the store's connection, keyed by the project's root path: several hosts that
deploy the project at the same path and share one store then never heal it twice at
once, and a copy of the project at another path is another project. Both are taken
without waiting: a second healer gets :class:`~calctl.errors.LockedError` (exit 3).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from calctl.errors import LockedError

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.store.base import Store


def project_key(settings: Settings) -> str:
    """What names the project in the shared trail and in the advisory lock."""
    return str(settings.root.resolve())


def advisory_key(project: str) -> int:
    """62 bits of sha256 (a bigint PostgreSQL accepts, unlike migrate's own key)."""
    return int.from_bytes(hashlib.sha256(b"calctl-heal:" + project.encode()).digest()[:8],
                          "big") >> 2


@contextlib.contextmanager
def healer_lock(settings: Settings, store: Store) -> Iterator[None]:
    from calctl.state import StateDir

    with StateDir(settings.state_dir).lock("heal", timeout=0, purpose="guard once --heal"):
        if store.backend != "postgres":
            yield
            return
        key = advisory_key(project_key(settings))
        rows = store.query("SELECT pg_try_advisory_lock(?) AS got", (key,))
        if not rows or not rows[0]["got"]:
            raise LockedError(
                f"another healer (on this or another host sharing the audit store) is "
                f"healing {project_key(settings)}",
                hint="Wait for it to finish; guard once without --heal still checks.",
                code="heal-locked")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):  # a lost connection has let go already
                store.query("SELECT pg_advisory_unlock(?) AS released", (key,))
