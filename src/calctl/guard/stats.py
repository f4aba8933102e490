"""``calctl stats``: how well the project heals, read from the audit store.

From ``calctl_heal_runs`` (one row per heal attempt; ``status`` is the outcome:
``verified``, ``failed``, ``rolled_back``, ``no_fix`` or ``skipped``; the time to
repair is ``finished_at - started_at`` of a verified run; a run whose ``provider``
is ``memory`` replayed a learned fix) and ``calctl_fix_memory`` (a fix learned from
a verified heal; one with ``failures > 0`` failed a later verification and is never
replayed again). The heal rate is verified / (runs that tried a patch: verified,
failed, rolled back). The level is the number of fixes learned and still trusted: it
grows only with verified fixes.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calctl.documents import HealStats, StatsRow
    from calctl.store.base import Store

TRIED = ("verified", "failed", "rolled_back")


def heal_stats(store: Store) -> HealStats:
    from calctl.documents import HealStats

    runs = store.query("SELECT check_name, provider, status, started_at, finished_at"
                       " FROM calctl_heal_runs")
    memory = store.query("SELECT failures FROM calctl_fix_memory")
    counts = {k: sum(1 for r in runs if r["status"] == k)
              for k in ("verified", "failed", "rolled_back", "no_fix", "skipped")}
    learned = sum(1 for m in memory if not int(m["failures"] or 0))
    return HealStats(
        runs=len(runs), **counts, heal_rate=_rate(runs), mean_time_to_repair=_mttr(runs),
        fixes_learned=learned, fixes_replayed=_replayed(runs),
        fixes_forgotten=len(memory) - learned, level=learned,
        providers=_rows(runs, "provider"), checks=_rows(runs, "check_name"))


def _rate(runs: list[dict[str, Any]]) -> float:
    tried = [r for r in runs if r["status"] in TRIED]
    verified = sum(1 for r in tried if r["status"] == "verified")
    return round(verified / len(tried), 4) if tried else 0.0


def _mttr(runs: list[dict[str, Any]]) -> float | None:
    times = [t for r in runs if r["status"] == "verified"
             and (t := _seconds(r["started_at"], r["finished_at"])) is not None]
    return round(sum(times) / len(times), 3) if times else None


def _replayed(runs: list[dict[str, Any]]) -> int:
    return sum(1 for r in runs if r["status"] == "verified" and r["provider"] == "memory")


def _seconds(start: Any, end: Any) -> float | None:
    try:
        return max(0.0, (datetime.fromisoformat(str(end))
                         - datetime.fromisoformat(str(start))).total_seconds())
    except (TypeError, ValueError):
        return None


def _rows(runs: list[dict[str, Any]], key: str) -> list[StatsRow]:
    from calctl.documents import StatsRow

    groups: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault(str(run[key] or "(none)"), []).append(run)
    return [StatsRow(name=name, runs=len(group),
                     verified=sum(1 for r in group if r["status"] == "verified"),
                     failed=sum(1 for r in group if r["status"] in ("failed", "rolled_back")),
                     heal_rate=_rate(group), mean_time_to_repair=_mttr(group),
                     replayed=_replayed(group))
            for name, group in sorted(groups.items())]
