"""Before anything else: finish what a killed healer (or patch apply) left in flight.

``patch recover`` in-process: a patch whose journal is still in ``journal/`` (the
healer was killed while verifying, say) is restored byte-for-byte, or kept if it had
been verified. ``guard once`` runs this on every run, with or without ``--heal``, so
the project is never left holding an unverified fix; it costs one directory listing
when nothing is in flight. A patch being applied right now by another process (the
``patch`` lock is held) is left to it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from calctl.errors import LockedError

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.documents import PatchRecovery
    from calctl.events.log import EventLog
    from calctl.store.base import Store


def in_flight(settings: Settings) -> bool:
    """Whether a patch journal or a verify command's process record is left over."""
    from calctl.state import StateDir

    state = StateDir(settings.state_dir)
    for directory, wanted in ((state.journal, ".json"), (state.locks, ".procs")):
        try:
            if any(name.endswith(wanted) for name in os.listdir(directory)):
                return True
        except OSError:
            continue
    return False


def recover_interrupted(settings: Settings, store: Store | None,
                        events: EventLog | None) -> PatchRecovery | None:
    """Recover interrupted patches; None when nothing was in flight or another
    process holds the patch lock."""
    if not in_flight(settings):
        return None
    from calctl.patch.context import PatchEnv
    from calctl.patch.records import Trail
    from calctl.patch.recover import recover

    try:
        done = recover(PatchEnv.from_settings(settings, lock_timeout=0), Trail(store, events))
    except LockedError:
        return None
    if events is not None:
        for item in done.recovered:
            events.emit("heal.recovered", item.patch_id, {
                "phase": item.phase, "action": item.action, "files": item.files})
    return done
