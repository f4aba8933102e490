"""``--prometheus FILE``: node_exporter textfile metrics, written atomically by
prometheus-client's ``write_to_textfile`` (a temporary file renamed over FILE).

- ``calctl_check_up{check}``: 1 when the check is healthy, else 0 (a failure below
  ``fail_after`` still counts as up);
- ``calctl_check_duration_seconds{check}``: how long it took this run;
- ``calctl_heal_total{result}``: heal runs by outcome, counted from the store since
  the beginning (0 for each outcome before any).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calctl.documents import GuardRun
    from calctl.store.base import Store

OUTCOMES = ("verified", "failed", "rolled_back", "no_fix", "skipped")


def heal_counts(store: Store) -> dict[str, int]:
    counts = dict.fromkeys(OUTCOMES, 0)
    for row in store.query("SELECT status, COUNT(*) AS n FROM calctl_heal_runs GROUP BY status"):
        counts[str(row["status"])] = int(row["n"])
    return counts


def write_textfile(path: Path, run: GuardRun, store: Store) -> None:
    from prometheus_client import (
        CollectorRegistry,
        Counter,
        Gauge,
        disable_created_metrics,
        write_to_textfile,
    )

    disable_created_metrics()  # type: ignore[no-untyped-call]  # no calctl_heal_created: the textfile is rewritten each run

    registry = CollectorRegistry()
    up = Gauge("calctl_check_up", "1 when the check is healthy, else 0", ["check"],
               registry=registry)
    duration = Gauge("calctl_check_duration_seconds", "How long the check took this run",
                     ["check"], registry=registry)
    heals = Counter("calctl_heal", "Heal runs by outcome, since the beginning", ["result"],
                    registry=registry)
    for result in run.checks:
        up.labels(check=result.name).set(0 if result.status == "unhealthy" else 1)
        duration.labels(check=result.name).set(result.duration)
    for outcome, count in heal_counts(store).items():
        heals.labels(result=outcome).inc(count)
    try:
        write_to_textfile(str(path), registry)
    except OSError as exc:
        from calctl.errors import UsageError

        raise UsageError(f"--prometheus {path}: cannot write it: {exc.strerror or exc}",
                         hint="Name a file in a directory calctl can write (node_exporter's "
                         "--collector.textfile.directory).") from exc
