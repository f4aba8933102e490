"""Each check's health in the audit store, across cron runs.

``calctl_check_state`` keeps, per check, the consecutive failures, whether it is
unhealthy now (``fail_after`` reached) and since when, and a cursor (a log check's
inode and offset); ``calctl_check_results`` gets one row per check per run. A
transition — healthy to unhealthy, or back — is what ``guard once`` tells (events,
webhook); a failure below ``fail_after`` is recorded and told to no one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from calctl.ids import new_id, now_iso

if TYPE_CHECKING:
    from calctl.store.base import Store

Transition = Literal["", "failed", "recovered"]


@dataclass(frozen=True)
class Recorded:
    failures: int
    unhealthy: bool
    transition: Transition


def cursors(store: Store, names: list[str]) -> dict[str, str | None]:
    """The stored cursor of each named check."""
    if not names:
        return {}
    marks = ", ".join("?" for _ in names)
    rows = store.query(f"SELECT check_name, cursor FROM calctl_check_state"
                       f" WHERE check_name IN ({marks})", names)
    return {str(r["check_name"]): r["cursor"] for r in rows}


def record(store: Store, name: str, *, ok: bool, fail_after: int, duration: float,
           error: str, finding: dict[str, Any] | None, cursor: str | None) -> Recorded:
    """Record one run of check ``name``; what its health is now and whether it changed."""
    now = now_iso()
    with store.transaction():
        before = store.claim_check_state(name)  # a new row: 0 failures, healthy, no cursor
        failures = 0 if ok else int(before["consecutive_failures"]) + 1
        was = bool(before["unhealthy"])
        unhealthy = failures >= fail_after
        transition: Transition = "failed" if unhealthy and not was else \
            "recovered" if was and ok else ""
        if transition == "" and was and not ok:
            unhealthy = True  # still unhealthy; a raised fail_after does not hide it
        status = "ok" if ok else ("unhealthy" if unhealthy else "failing")
        keep = cursor if cursor is not None else before["cursor"]
        # changed_at: since when the check is in its current health (its first run counts)
        store.execute(
            "UPDATE calctl_check_state SET consecutive_failures = ?, last_status = ?,"
            " last_error = ?, last_run_at = ?, last_ok_at = COALESCE(?, last_ok_at),"
            " unhealthy = ?,"
            " changed_at = CASE WHEN ? = 1 OR changed_at IS NULL THEN ? ELSE changed_at END,"
            " cursor = ? WHERE check_name = ?",
            (failures, status, error or None, now, now if ok else None, int(unhealthy),
             int(bool(transition)), now, keep, name))
        store.execute(
            "INSERT INTO calctl_check_results (id, check_name, status, duration_ms, error,"
            " finding, ran_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (new_id(), name, status, int(duration * 1000), error or None,
             json.dumps(finding) if finding else None, now))
    return Recorded(failures, unhealthy, transition)
