"""``calctl guard once``: every check once, recorded, told on transitions.

The command module the CLI (and a cron job through it) calls: settings in, a
``guard-run`` document and an exit code out. One run at a time per state directory
(``locks/guard.lock``; a second waits ``wait`` seconds, then exit 3).

The healer's seam: with ``healer`` given (``--heal``), the unhealthy checks with
``heal = true`` are handed to it as findings; it returns one outcome per check it
worked on (``{"check": name, "outcome": "verified" | "failed" | "rolled_back" |
"no_fix" | "skipped", …}``), and every check it reports ``verified`` is run again
here, so the document (and the exit code) says what is true after the heal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from calctl.config.checks import CheckSpec
from calctl.errors import ExitCode, UsageError
from calctl.guard.checks import SOURCES
from calctl.guard.model import CheckContext, Outcome
from calctl.guard.runner import Ran, run_checks
from calctl.guard.specs import check_specs

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.documents import CheckResult, Finding, GuardRun
    from calctl.events.log import EventLog
    from calctl.guard.notify import Notifier
    from calctl.store.base import Store


class Healer(Protocol):
    """``calctl.heal.pipeline.heal``: takes the findings of unhealthy checks with
    ``heal = true`` through report → diagnosis → patch → verify → keep or roll back →
    learn; ``recheck`` runs one check again (its verification)."""

    def __call__(self, findings: list[Finding], settings: Settings, store: Store, *,
                 events: EventLog, checks: Sequence[CheckSpec],
                 recheck: Callable[[CheckSpec], Outcome],
                 dry_run: bool = False) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class OnceResult:
    document: GuardRun
    exit_code: int
    warnings: list[str] = field(default_factory=list)


def select(settings: Settings, only: str | None) -> list[CheckSpec]:
    """The configured checks (just ``only``, when named); UsageError for none."""
    specs = check_specs(settings)
    if not specs:
        raise UsageError("no health checks are configured",
                         hint="Add [[guard.checks]] tables to calctl.toml (docs/guard.md).",
                         code="config-check")
    if only is not None:
        specs = [s for s in specs if s.name == only]
        if not specs:
            raise UsageError(f"--check {only}: no check has that name",
                             hint="Configured checks: "
                             + ", ".join(s.name for s in check_specs(settings)))
    if any(s.type in ("command", "log") or (s.type == "http" and s.options.get("headers"))
           for s in specs) or settings.guard.notify_url:
        settings.require_trusted_config("run the commands, read the files and send the "
                                        "results its [guard] settings name")
    return specs


def guard_once(settings: Settings, specs: Sequence[CheckSpec], store: Store,
               events: EventLog, *, healer: Healer | None = None, dry_run: bool = False,
               prometheus: Path | None = None) -> OnceResult:
    """Run ``specs`` once (the caller holds the guard lock), record and tell."""
    from calctl.documents import GuardRun
    from calctl.guard import state
    from calctl.ids import now_iso

    started = time.monotonic()
    ts = now_iso()
    notifier = _notifier(settings)
    ctx = CheckContext(settings, state.cursors(store, [s.name for s in specs]))
    results = {r.spec.name: _record(r, store, events, notifier)
               for r in run_checks(specs, ctx)}
    heal: list[dict[str, Any]] = []
    if healer is not None:
        heal = _heal(healer, settings, specs, results, store, events, notifier, dry_run)
    checks = [results[s.name] for s in specs]
    healthy = all(c.status != "unhealthy" for c in checks)
    duration = round(time.monotonic() - started, 3)
    document = GuardRun(ts=ts, healthy=healthy, checks=checks, duration=duration, heal=heal)
    events.emit("guard.run", "", {
        "checks": len(checks), "unhealthy": [c.name for c in checks if c.status == "unhealthy"],
        "failing": [c.name for c in checks if c.status == "failing"],
        "healed": [h.get("check") for h in heal if h.get("outcome") == "verified"],
        "duration": duration})
    if prometheus is not None:
        from calctl.guard.metrics import write_textfile

        write_textfile(prometheus, document, store)
    warnings = notifier.wait() if notifier is not None else []
    return OnceResult(document, ExitCode.OK if healthy else ExitCode.FINDINGS, warnings)


def _notifier(settings: Settings) -> Notifier | None:
    if not settings.guard.notify_url:
        return None
    from calctl.guard.notify import Notifier

    return Notifier(settings.guard.notify_url)


def _record(ran: Ran, store: Store, events: EventLog, notifier: Notifier | None) -> CheckResult:
    from calctl.documents import CheckResult
    from calctl.documents.guard import CheckStatus
    from calctl.guard import state

    spec, outcome = ran.spec, scrub(ran.spec, ran.outcome)
    finding = _finding(spec, outcome) if not outcome.ok else None
    recorded = state.record(store, spec.name, ok=outcome.ok, fail_after=spec.fail_after,
                            duration=ran.duration, error=outcome.error,
                            finding=finding.to_dict() if finding else None,
                            cursor=outcome.cursor)
    status: CheckStatus = "healthy" if outcome.ok else \
        "unhealthy" if recorded.unhealthy else "failing"
    result = CheckResult(
        name=spec.name, type=spec.type, ok=outcome.ok, status=status, duration=ran.duration,
        error=outcome.error, consecutive_failures=recorded.failures,
        fail_after=spec.fail_after, severity=spec.severity, transition=recorded.transition,
        detail=outcome.detail, finding=finding if status == "unhealthy" else None)
    if recorded.transition:
        kind = f"guard.check.{recorded.transition}"
        data: dict[str, Any] = {"check": spec.name, "check_type": spec.type,
                                "severity": spec.severity, "duration": ran.duration,
                                "consecutive_failures": recorded.failures}
        if recorded.transition == "failed":
            data.update(error=outcome.error, file=outcome.file, line=outcome.line)
        event = events.emit(kind, spec.name, data)
        if notifier is not None:
            notifier.send({"kind": "guard-notice", "version": 1, "type": kind,
                           "ts": event.ts, **data})
    return result


def scrub(spec: CheckSpec, outcome: Outcome) -> Outcome:
    """``outcome`` with every password of a URL masked, and every value of the environment
    variables the check names (its headers, its database URL) replaced, before anything is
    recorded, told or printed: a command's output or a peer's reply may repeat them."""
    if outcome.ok:
        return outcome
    import dataclasses
    import json
    import os

    from calctl.redact import MASK, mask_secrets

    names = [str(v) for v in dict(spec.options.get("headers") or {}).values()]
    if spec.options.get("database_url_env"):
        names.append(str(spec.options["database_url_env"]))
    values = [os.environ.get(n, "") for n in names]
    urls = [v for v in values if "://" in v or "=" in v]

    def clean(text: str) -> str:
        text = mask_secrets(text, *urls)
        for value in values:
            if len(value) >= 6:
                text = text.replace(value, MASK)
        return text

    data = json.loads(clean(json.dumps(outcome.data)))
    return dataclasses.replace(outcome, error=clean(outcome.error),
                               traceback=clean(outcome.traceback), hint=clean(outcome.hint),
                               data=data if isinstance(data, dict) else {})


def _finding(spec: CheckSpec, outcome: Outcome) -> Finding:
    from calctl.documents import Finding
    from calctl.ids import now_iso

    return Finding(check=spec.name, source=SOURCES[spec.type],  # type: ignore[arg-type]
                   error=outcome.error or f"check {spec.name} failed", file=outcome.file,
                   line=outcome.line, traceback=outcome.traceback, ts=now_iso(),
                   data={"type": spec.type, "severity": spec.severity, **outcome.data},
                   hint=outcome.hint, sqlstate=outcome.sqlstate)


def _heal(healer: Healer, settings: Settings, specs: Sequence[CheckSpec],
          results: dict[str, CheckResult], store: Store, events: EventLog,
          notifier: Notifier | None, dry_run: bool) -> list[dict[str, Any]]:
    """Hand the unhealthy checks with ``heal = true`` to the healer; run again the ones
    it healed, replacing their results."""
    wanted = [s for s in specs if s.heal and results[s.name].finding is not None]
    if not wanted:
        return []
    findings = [f for s in wanted if (f := results[s.name].finding) is not None]

    def recheck(spec: CheckSpec) -> Outcome:
        fresh = CheckContext(settings, {})  # a verification must not move a log's cursor
        return run_checks([spec], fresh)[0].outcome

    outcomes = healer(findings, settings, store, events=events, checks=wanted,
                      recheck=recheck, dry_run=dry_run)
    healed = {str(o.get("check")) for o in outcomes if o.get("outcome") == "verified"}
    for outcome in outcomes:
        if notifier is not None and outcome.get("outcome") in ("verified", "failed",
                                                               "rolled_back"):
            notifier.send({"kind": "guard-notice", "version": 1,
                           "type": "guard.check.healed" if outcome.get("outcome") == "verified"
                           else "guard.check.heal_failed", **outcome})
    again = [s for s in wanted if s.name in healed]
    if again and not dry_run:
        from calctl.guard import state

        ctx = CheckContext(settings, state.cursors(store, [s.name for s in again]))
        for ran in run_checks(again, ctx):
            results[ran.spec.name] = _record(ran, store, events, notifier)
    return outcomes
