"""The diagnoser chain, publishers, cooldown and exit codes of ``run_report``, with small
real Provider/Publisher classes (test-only implementations of the protocols), the real
store and event log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from calctl.config import Settings
from calctl.documents import BugReport, Diagnosis, Edit, Patch
from calctl.events.log import EventLog, read_events
from calctl.providers.base import ProviderContext, ProviderResult, PublishResult
from calctl.report.chain import diagnose
from calctl.report.command import ReportRequest, run_report
from calctl.state import StateDir
from calctl.store import open_store
from calctl.store.base import Store
from conftest import FIXTURES

FIX = Patch(description="price_of returns the catalogue value",
            edits=[Edit(op="replace", path="app/prices.py", search="    return entry.price\n",
                        replace="    return entry\n")])


@dataclass
class Scripted:
    """A diagnoser that answers with one scripted result and counts its calls."""

    name: str
    result: ProviderResult | None = None
    offline: bool = True
    calls: int = 0

    def outgoing(self, report: BugReport, ctx: ProviderContext) -> dict[str, Any] | None:
        return None if self.offline else {"model": "m", "error": report.error}

    def diagnose(self, report: BugReport, ctx: ProviderContext) -> ProviderResult:
        self.calls += 1
        return self.result or ProviderResult(self.name, None, "no fix known")


def answer(name: str, patch: Patch | None = FIX, **kw: Any) -> Scripted:
    return Scripted(name, ProviderResult(name, Diagnosis(provider=name, summary=f"{name} says",
                                                          patch=patch), **kw))


@dataclass
class Recorder:
    name: str = "recorder"
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    def outgoing(self, report: BugReport, diagnosis: Diagnosis | None,
                 ctx: ProviderContext) -> dict[str, Any] | None:
        return {"title": report.error_type, "fingerprint": report.fingerprint}

    def publish(self, report: BugReport, diagnosis: Diagnosis | None,
                ctx: ProviderContext) -> PublishResult:
        self.seen.append((report.fingerprint, diagnosis.provider if diagnosis else None))
        return PublishResult(self.name, "created", url="http://127.0.0.1/issue/1")


@pytest.fixture
def env(shop: Path) -> Iterator[tuple[Settings, Store, EventLog]]:
    settings = Settings.resolve(cwd=shop, env={})
    store = open_store(settings)
    events = EventLog(StateDir(settings.state_dir).ensure().events_path, store)
    try:
        yield settings, store, events
    finally:
        events.close()
        store.close()


def _run(env: tuple[Settings, Store, EventLog], *providers: Any, force: bool = False,
         dry_run: bool = False, publishers: tuple[Any, ...] = ()) -> Any:
    settings, store, events = env
    with open(FIXTURES / "pytest_failure.txt", "rb") as log:
        return run_report(ReportRequest(stream=log, force=force, dry_run=dry_run), settings,
                          store=store, events=events, diagnosers=list(providers),
                          publishers=list(publishers), environ={})


def _types(env: tuple[Settings, Store, EventLog]) -> list[str]:
    return [e.type for e in read_events(env[2].path)]


def test_chain_stops_at_the_first_patch_that_validates(env: Any, shop: Path) -> None:
    empty, advice, fixer, later = (Scripted("memory"), answer("rules", patch=None),
                                   answer("fixer"), answer("later"))
    outcome = _run(env, empty, advice, fixer, later)
    assert outcome.exit_code == 0 and outcome.fixed
    assert outcome.diagnosis.provider == "fixer"
    assert outcome.diagnosis.patch.report_id == outcome.report.report_id
    assert outcome.diagnosis.patch.fingerprint == outcome.report.fingerprint
    assert later.calls == 0
    assert (shop / "app" / "prices.py").read_text().endswith("return entry.price\n")  # unchanged
    row = env[1].query("SELECT status, diagnosis, suggested_fix FROM guardian_bug_reports")[0]
    assert row["status"] == "diagnosed"
    assert json.loads(row["diagnosis"])["provider"] == "fixer"
    assert json.loads(row["suggested_fix"])["edits"][0]["path"] == "app/prices.py"
    # memory had nothing; rules diagnosed without a patch (advice); fixer fixed it
    assert _types(env) == ["report.built", "report.diagnosis_failed", "report.diagnosed",
                           "report.diagnosed", "report.finished"]
    patched = [e.data["patch"] for e in read_events(env[2].path) if e.type == "report.diagnosed"]
    assert patched == [False, True]


def test_a_patch_that_does_not_validate_is_a_failed_diagnosis(env: Any) -> None:
    escape = answer("llm", Patch(edits=[Edit(op="replace", path="../../etc/passwd",
                                             search="root", replace="toor")]))
    missing = answer("llm2", Patch(edits=[Edit(op="replace", path="app/prices.py",
                                               search="no such text", replace="x")]))
    outcome = _run(env, escape, missing)
    assert outcome.exit_code == 1 and not outcome.fixed
    reasons = [r.reason for r in outcome.results]
    assert all(r.startswith("its patch does not validate") for r in reasons), reasons
    assert outcome.diagnosis.provider == "llm" and outcome.diagnosis.patch is None


def test_a_patch_touching_a_test_file_is_refused(env: Any) -> None:
    sneaky = answer("llm", Patch(edits=[Edit(op="replace", path="tests/test_cart.py",
                                             search="== 8", replace="== 7")]))
    outcome = _run(env, sneaky)
    assert outcome.exit_code == 1
    assert "protected" in outcome.results[0].reason


def test_exit_4_only_when_no_diagnoser_was_reached(env: Any) -> None:
    down = Scripted("openai", ProviderResult("openai", None, "connection refused",
                                             reached=False), offline=False)
    assert _run(env, down).exit_code == 4
    assert _run(env, down, Scripted("rules")).exit_code == 1
    assert _run(env).exit_code == 1  # no diagnoser chosen: reported without a fix


def test_cooldown_reuses_the_stored_diagnosis(env: Any) -> None:
    paid = answer("openai")
    first = _run(env, paid)
    again = _run(env, paid)
    assert paid.calls == 1
    assert again.reused and again.exit_code == 0
    assert again.diagnosis.provider == "openai"
    assert again.report.fingerprint == first.report.fingerprint
    assert "report.reused" in _types(env)
    forced = _run(env, paid, force=True)
    assert paid.calls == 2 and not forced.reused


def test_cooldown_asks_again_when_the_stored_patch_no_longer_applies(env: Any,
                                                                     shop: Path) -> None:
    paid = answer("openai")
    _run(env, paid)
    prices = shop / "app" / "prices.py"
    prices.write_text(prices.read_text().replace("return entry.price", "return entry.cost"))
    _run(env, paid)
    assert paid.calls == 2


def test_cooldown_zero_always_asks(shop: Path) -> None:
    (shop / "calctl.toml").write_text('[report]\nproviders = []\ncooldown = 0\n')
    settings = Settings.resolve(cwd=shop, env={})
    with open_store(settings) as store:
        paid = answer("openai")
        _run((settings, store, None), paid)
        _run((settings, store, None), paid)
    assert paid.calls == 2


def test_dry_run_shows_outgoing_bodies_and_calls_nothing(env: Any) -> None:
    paid = Scripted("openai", offline=False)
    recorder = Recorder()
    outcome = _run(env, Scripted("memory"), paid, dry_run=True, publishers=(recorder,))
    assert [(o.name, o.role) for o in outcome.outgoing] == [
        ("memory", "diagnoser"), ("openai", "diagnoser"), ("recorder", "publisher")]
    assert outcome.outgoing[0].body is None
    assert outcome.outgoing[1].body == {"model": "m", "error": outcome.report.error}
    assert paid.calls == 0 and recorder.seen == []
    assert outcome.exit_code == 0


def test_publishers_get_the_report_and_the_chains_diagnosis(env: Any) -> None:
    recorder = Recorder()
    outcome = _run(env, answer("fixer"), publishers=(recorder,))
    assert recorder.seen == [(outcome.report.fingerprint, "fixer")]
    assert outcome.published[0].action == "created"
    assert "report.published" in _types(env)


def test_diagnose_is_the_in_process_interface(env: Any) -> None:
    settings, store, _ = env
    report = _run(env).report
    ctx = ProviderContext(root=settings.root, settings=settings, store=store)
    assert diagnose(report, [Scripted("memory")], ctx) is None
    found = diagnose(report, [answer("fixer")], ctx)
    assert found is not None and found.patch is not None


def test_provider_prose_is_redacted_before_it_is_stored(env: Any) -> None:
    leaky = Scripted("llm", ProviderResult("llm", Diagnosis(
        provider="llm", summary="set password=Hunter2Hunter2 and retry"),
        raw='{"key": "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"}'))
    outcome = _run(env, leaky)
    assert "Hunter2Hunter2" not in outcome.diagnosis.summary
    row = env[1].query("SELECT diagnosis, raw_response FROM guardian_bug_reports")[0]
    assert "Hunter2Hunter2" not in row["diagnosis"]
    assert "sk-proj-abc" not in row["raw_response"]
