"""Finishing what a crash interrupted: ``calctl patch recover``.

For every journal still in ``journal/``:

- ``verified`` (or ``applied`` when no verification was planned): the patch
  was complete; the record is only moved to its final place;
- ``prepared``: nothing was written yet; the patch is marked rolled back;
- ``writing``, ``applied``, ``verifying``, ``rolling_back``: the snapshot is
  restored byte-for-byte and the patch is marked rolled back.

Temp files the interrupted atomic writes left are removed, looking only in
the directories of the paths the patch touched. Running it twice is harmless:
a finished journal is no longer in ``journal/``.

A journal not sealed with this user's key (one a repository shipped, or a
fresh machine finds) is never acted on: it is left in place and listed in
``PatchRecovery.skipped``; ``patch recover`` then exits 3, ``patch apply`` warns
and goes on (a planted file must not block every later patch).
"""

from __future__ import annotations

from typing import Any

from calctl.documents import PatchRecovery, RecoveredPatch, SkippedJournal
from calctl.output import plural
from calctl.patch import journal as journal_mod
from calctl.patch.atomic import remove_temp
from calctl.patch.context import PatchEnv
from calctl.patch.journal import Journal
from calctl.patch.records import Trail
from calctl.patch.undo import journal_files, undo
from calctl.patch.verify import reap_leftovers

# How `patch apply` notes a journal it ignored (the CLI shows these as warnings).
UNTRUSTED_NOTE = "ignored untrusted journal "


def recover(env: PatchEnv, trail: Trail) -> PatchRecovery:
    """Take the patch lock and recover every patch in flight."""
    env.state.ensure()
    with env.state.lock("patch", timeout=env.lock_timeout, purpose="patch recover"):
        return recover_locked(env, trail)


def recover_locked(env: PatchEnv, trail: Trail) -> PatchRecovery:
    """Recover, for a caller that already holds the patch lock."""
    reap_leftovers(env.state)  # a dead run's verification must not outlive it
    records, untrusted = journal_mod.scan(env.state)
    journal_mod.clean_temp(env.state, [str(r["patch_id"]) for r in records])
    done = [_recover_one(env, trail, record) for record in records]
    skipped = [SkippedJournal(str(u.path), u.reason) for u in untrusted]
    for item in skipped:
        trail.emit("patch.journal_untrusted", "", {"path": item.path, "reason": item.reason})
    return PatchRecovery(recovered=done, skipped=skipped)


def _recover_one(env: PatchEnv, trail: Trail, record: dict[str, Any]) -> RecoveredPatch:
    patch_id = str(record["patch_id"])
    phase = str(record["phase"])
    files = journal_files(env, record)
    for rel in files:
        remove_temp(env.root / rel, patch_id)
    journal = Journal.reopen(env.state, record)
    complete = phase == "verified" or (phase == "applied" and not record.get("verify_planned"))
    if complete:
        journal.finish()
        detail = f"patch had reached {phase}; kept"
        _ensure_row(trail, record, phase)
        trail.emit("patch.recovered", patch_id, {"phase": phase, "action": "finished",
                                                 "files": files})
        return RecoveredPatch(patch_id, phase, "finished", files, detail)
    if phase == "prepared":
        journal.advance("rolled_back", "interrupted before any file was written",
                        status="rolled_back")
        journal.finish()
        restored: list[str] = []
        detail = "interrupted before any file was written"
    else:
        restored = undo(env, journal, f"recovered after a crash in phase {phase}")
        detail = f"interrupted in phase {phase}; restored {plural(len(restored), 'file')}"
    _ensure_row(trail, record, "rolled_back")
    trail.update(patch_id, status="rolled_back", success=False, rolled_back=True,
                 error=f"interrupted in phase {phase}; rolled back by recover")
    trail.emit("patch.recovered", patch_id, {"phase": phase, "action": "rolled_back",
                                             "files": files, "restored": restored})
    return RecoveredPatch(patch_id, phase, "rolled_back", files, detail)


def _ensure_row(trail: Trail, record: dict[str, Any], status: str) -> None:
    """The crash may have come before the store row was written."""
    patch_id = str(record["patch_id"])
    if trail.store is None or trail.exists(patch_id):
        return
    trail.add(patch_id=patch_id, files=list(record.get("files", [])), status=status,
              success=status != "rolled_back", description=str(record.get("description", "")),
              snapshot_id=patch_id, report_id=str(record.get("report_id", "")),
              source=str(record.get("source", "manual")), line=None,
              document={"patch": record.get("patch"), "recovered": True})
