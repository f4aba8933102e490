"""Restoring a journalled patch's snapshot: what ``rollback`` and ``recover`` both do.

Its own module so that ``rollback`` (which recovers interrupted patches first) and
``recover`` (which finishes an interrupted rollback) need not import each other.
"""

from __future__ import annotations

from typing import Any

from calctl.patch import snapshot
from calctl.patch.context import PatchEnv
from calctl.patch.journal import Journal


def undo(env: PatchEnv, journal: Journal, detail: str) -> list[str]:
    """Restore the snapshot of a journalled patch and mark it rolled back (durably)."""
    manifest = snapshot.load(env.state, journal.patch_id, env.root)
    if journal.phase != "rolling_back":
        journal.advance("rolling_back", detail)
    changed = snapshot.restore(env.state, manifest, env.root, tag=journal.patch_id)
    journal.advance("rolled_back", detail, status="rolled_back")
    journal.finish()
    return changed


def journal_files(env: PatchEnv, record: dict[str, Any]) -> list[str]:
    """The paths a journal says its patch touches, each confined like a patch's own
    (StateError before anything is touched when one is not)."""
    from calctl.patch.paths import Confinement

    rules = Confinement(env.root, env.state.path)
    where = f"patch journal of {record.get('patch_id')}"
    return [snapshot.confine_path(rules, rel, where) for rel in record.get("files") or []]
