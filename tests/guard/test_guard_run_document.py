"""The guard-run and heal-stats documents round-trip and are validated field by field."""

from __future__ import annotations

import json

import pytest

from calctl.documents import CheckResult, Finding, GuardRun, HealStats, StatsRow, load_document
from calctl.errors import DocumentError


def _run() -> GuardRun:
    finding = Finding(check="web", source="http", error="HTTP 503", data={"status": 503})
    return GuardRun(ts="2026-12-01T10:00:00+00:00", healthy=False, duration=0.4, checks=[
        CheckResult(name="web", type="http", ok=False, status="unhealthy", duration=0.1,
                    error="HTTP 503", consecutive_failures=2, fail_after=2,
                    transition="failed", finding=finding),
        CheckResult(name="db", type="postgres", ok=True, status="healthy", duration=0.05),
    ], heal=[{"check": "web", "outcome": "no_fix"}])


def test_guard_run_round_trips() -> None:
    run = _run()
    text = json.dumps(run.to_dict())
    loaded = load_document(text)
    assert loaded == run and isinstance(loaded, GuardRun)
    assert loaded.findings[0].check == "web"
    assert json.loads(text)["checks"][0]["finding"]["kind"] == "finding"


def test_a_bad_field_is_named() -> None:
    data = _run().to_dict()
    data["checks"][1]["status"] = "fine"
    with pytest.raises(DocumentError, match=r"checks\[1\]\.status"):
        GuardRun.from_dict(data)


def test_heal_stats_round_trip() -> None:
    stats = HealStats(runs=2, verified=1, heal_rate=0.5, mean_time_to_repair=3.5,
                      providers=[StatsRow(name="rules", runs=2, verified=1, heal_rate=0.5)])
    assert load_document(json.dumps(stats.to_dict())) == stats
