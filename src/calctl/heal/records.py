"""What the healer writes in the audit store: heal runs, the hourly budget, learned fixes.

``calctl_heal_runs`` (migrations/001): one row per check the healer worked on. A row
is inserted ``running`` when the heal starts and finished with its outcome —
``verified``, ``failed`` (the patch failed verification and was rolled back, or the
engine would not apply it), ``rolled_back`` (the healer died during verification and
the next run's recovery restored the files), ``no_fix`` or ``skipped`` (budget
spent, dry run). ``provider`` is the diagnoser whose patch was tried (``memory``:
a learned fix replayed); the time to repair is ``finished_at - started_at``.
``detail`` (JSON) holds the project, the finding, the patch, ``from_memory``,
``seconds_to_repair``, the verification and the reason: what ``calctl stats``
(``guard/stats.py``) and a person reading the trail need.

``calctl_fix_memory``: a verified fix is learned under its fingerprint
(``Store.remember_fix``); a replayed one that then fails verification gets
``failures + 1`` and the ``memory`` provider never offers it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from calctl.ids import new_id, now_iso

if TYPE_CHECKING:
    from calctl.store.base import Store

# outcomes that spent a patch (what the hourly budget counts)
TRIED = ("verified", "failed", "rolled_back")


@dataclass
class HealRun:
    """One heal run as it goes; :func:`finish` writes its outcome."""

    check: str
    project: str
    id: str = field(default_factory=new_id)
    started_at: str = field(default_factory=now_iso)
    fingerprint: str = ""
    report_id: str = ""
    patch_id: str = ""
    provider: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def start(store: Store, run: HealRun) -> None:
    store.execute(
        "INSERT INTO calctl_heal_runs (id, check_name, fingerprint, report_id, patch_id,"
        " provider, status, started_at, finished_at, detail)"
        " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, NULL, ?)",
        (run.id, run.check, run.fingerprint or None, run.report_id or None, None, None,
         run.started_at, json.dumps({"project": run.project, **run.detail}, default=str)))


def progress(store: Store, run: HealRun) -> None:
    """What is known so far (the report, the provider): a healer killed later leaves a
    row that says which report, and so which patch, it was working on."""
    store.execute("UPDATE calctl_heal_runs SET fingerprint = ?, report_id = ?, provider = ?"
                  " WHERE id = ?", (run.fingerprint or None, run.report_id or None,
                                    run.provider or None, run.id))


def seconds_between(start_iso: str, end_iso: str) -> float:
    try:
        delta = datetime.fromisoformat(end_iso) - datetime.fromisoformat(start_iso)
    except ValueError:
        return 0.0
    return round(max(0.0, delta.total_seconds()), 3)


def finish(store: Store, run: HealRun, outcome: str, **detail: Any) -> dict[str, Any]:
    """Write the run's outcome; returns the detail stored (with the timings)."""
    finished = now_iso()
    seconds = seconds_between(run.started_at, finished)
    run.detail.update(detail)
    run.detail.update(project=run.project, from_memory=run.provider == "memory",
                      seconds=seconds,
                      seconds_to_repair=seconds if outcome == "verified" else None)
    store.execute(
        "UPDATE calctl_heal_runs SET status = ?, finished_at = ?, fingerprint = ?,"
        " report_id = ?, patch_id = ?, provider = ?, detail = ? WHERE id = ?",
        (outcome, finished, run.fingerprint or None, run.report_id or None,
         run.patch_id or None, run.provider or None, json.dumps(run.detail, default=str),
         run.id))
    return run.detail


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(row.get("detail") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def spent_this_hour(store: Store, project: str) -> int:
    """Patches this project's healer tried in the last hour (the store may be shared
    by several projects: the project is in each row's detail)."""
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat(timespec="microseconds")
    rows = store.query("SELECT status, detail FROM calctl_heal_runs WHERE started_at >= ?"
                       " AND status IN ('verified', 'failed', 'rolled_back')", (since,))
    return sum(1 for r in rows if _detail(r).get("project") == project)


def close_interrupted(store: Store, project: str) -> list[str]:
    """Runs of this project still ``running``: their healer died (we hold the lock
    now). What became of the patch it was applying (recovery — this run's or an
    earlier ``guard once``'s — restored or kept it) is in the patch trail under the
    run's report: rolled back → ``rolled_back``; kept because it had been verified →
    ``verified``; no patch applied yet → ``skipped``."""
    closed = []
    for row in store.query("SELECT id, report_id, started_at, detail FROM calctl_heal_runs"
                           " WHERE status = 'running'"):
        detail = _detail(row)
        if detail.get("project") != project:
            continue
        patches = store.query(
            "SELECT patch_id, status FROM guardian_patch_applications WHERE report_id = ?"
            " AND source = 'heal'", (row["report_id"],)) if row.get("report_id") else []
        patch = patches[-1] if patches else None
        state = str(patch["status"]) if patch else ""
        outcome = "verified" if state == "verified" else (
            "rolled_back" if patch is not None else "skipped")
        detail.update(reason="the healer was interrupted" + (
            f"; its patch was {state.replace('_', ' ')} by recovery" if patch is not None
            else " before applying a patch"),
            seconds=seconds_between(str(row["started_at"]), now_iso()))
        store.execute("UPDATE calctl_heal_runs SET status = ?, finished_at = ?, patch_id = ?,"
                      " detail = ? WHERE id = ?",
                      (outcome, now_iso(), patch["patch_id"] if patch else None,
                       json.dumps(detail, default=str), row["id"]))
        closed.append(str(row["id"]))
    return closed


def learn(store: Store, fingerprint: str, patch: dict[str, Any], description: str) -> None:
    """Remember a verified fix. A fingerprint whose earlier fix failed is relearned
    with the new patch (its count starts again); the same patch verified again counts
    one more success."""
    row = store.recall_fix(fingerprint)
    if row is not None and int(row.get("failures") or 0) and row.get("patch") != patch:
        store.execute("UPDATE calctl_fix_memory SET patch = ?, description = ?, successes = 1,"
                      " failures = 0, learned_at = ?, last_used_at = NULL WHERE fingerprint = ?",
                      (json.dumps(patch), description, now_iso(), fingerprint))
        return
    store.remember_fix(fingerprint, patch, description)


def forget(store: Store, fingerprint: str) -> None:
    """A replayed fix failed verification: kept for the record, never replayed again."""
    store.execute("UPDATE calctl_fix_memory SET failures = failures + 1, last_used_at = ?"
                  " WHERE fingerprint = ?", (now_iso(), fingerprint))
