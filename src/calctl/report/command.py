"""``calctl report``: build the scrubbed report, diagnose it, publish it, record it.

::

    input ─► Failure ─► build_report (scrubbed) ─► store row + report.built
      │                                   │
      │ --dry-run: each provider's and publisher's ``outgoing`` body; nothing sent
      ▼
    cooldown: the same fingerprint diagnosed within report.cooldown → that diagnosis
      │ (its patch validated again; --force skips this)
      ▼
    diagnosers in order (run_chain) ─► publishers ─► set_diagnosis + report.finished

Exit status (:attr:`ReportOutcome.exit_code`): 0 a diagnosis with a patch that
validates (with ``--dry-run``: the report was built; a healthy guard run: nothing to
report), 1 reported without a fix, 4 when no diagnoser could be reached at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO

from calctl.config import Settings
from calctl.documents.report import BugReport, Diagnosis
from calctl.errors import CalctlError, UsageError
from calctl.providers.base import (
    Provider,
    ProviderContext,
    ProviderResult,
    Publisher,
    PublishResult,
)
from calctl.report import inputs
from calctl.report.build import build_report, rescrub
from calctl.report.chain import patch_problems, run_chain
from calctl.report.paths import PathScrubber
from calctl.scrub import Scrubber

if TYPE_CHECKING:
    from calctl.events.log import EventLog
    from calctl.store.base import Store


@dataclass(frozen=True)
class ReportRequest:
    """What the command line asked for; ``None`` lists mean "as configured"."""

    text: str | None = None
    stream: BinaryIO | None = None
    stream_name: str = "<stdin>"
    file: str | None = None
    line: int | None = None
    providers: tuple[str, ...] | None = None
    publish: tuple[str, ...] | None = None
    pull_request: bool = False
    dry_run: bool = False
    force: bool = False


@dataclass(frozen=True)
class Outgoing:
    """What one provider or publisher would send (``body`` None: nothing leaves)."""

    name: str
    role: str  # diagnoser | publisher
    body: dict[str, Any] | None


@dataclass(frozen=True)
class ReportOutcome:
    report: BugReport | None
    diagnosis: Diagnosis | None = None
    fixed: bool = False
    results: list[ProviderResult] = field(default_factory=list)
    published: list[PublishResult] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    reused: bool = False
    healthy: bool = False
    exit_code: int = 0

    @property
    def unreached(self) -> bool:
        return bool(self.results) and not any(r.reached for r in self.results)


def read_failure(request: ReportRequest, settings: Settings) -> inputs.Given:
    """The failure (or finished report) the request names."""
    crumbs = settings.report.breadcrumbs
    if request.line is not None and request.file is None:
        raise UsageError("--line needs --file", hint="Name the failing file: --file PATH "
                         "--line N.", code="report-usage")
    if request.line is not None and request.line < 1:
        raise UsageError(f"--line {request.line}: a line number counts from 1",
                         code="report-usage")
    if request.text is not None:
        if request.stream is not None:
            raise UsageError("give an error text or a log (--log or -), not both",
                             code="report-usage")
        return inputs.Given(failure=inputs.from_text(request.text, file=request.file,
                                                     line=request.line, breadcrumbs=crumbs))
    if request.file is not None:
        raise UsageError("--file names where an error text happened; give the error text too",
                         hint='calctl report "KeyError: \'id\'" --file app/x.py --line 3',
                         code="report-usage")
    if request.stream is None:
        raise UsageError("nothing to report", hint="Pass an error text, --log FILE, or - to "
                         "read a log or a document from stdin.", code="report-no-input")
    return inputs.from_stream(request.stream, name=request.stream_name, breadcrumbs=crumbs)


def resolve(names: Sequence[str], role: str) -> list[Any]:
    """Providers or publishers by name (an unknown one is a UsageError naming it)."""
    if not names:
        return []
    from calctl.providers import registry  # imports a provider's module only when named

    found = registry.diagnosers(names) if role == "provider" else registry.publishers(names)
    return list(found)


def run_report(request: ReportRequest, settings: Settings, *, store: Store | None,
               events: EventLog | None, diagnosers: Sequence[Provider] | None = None,
               publishers: Sequence[Publisher] | None = None,
               environ: Mapping[str, str] | None = None,
               database_url: str | None = None) -> ReportOutcome:
    """Build, diagnose, publish and record one report. ``diagnosers``/``publishers``
    default to the names of the request, else of ``[report] providers``/``publish``."""
    env = dict(os.environ if environ is None else environ)
    given = read_failure(request, settings)
    if given.healthy:
        _emit(events, "report.nothing", "", {"reason": "every check is healthy"})
        return ReportOutcome(None, healthy=True)
    if given.report is not None:
        report = rescrub(given.report, settings, environ=env)
    else:
        assert given.failure is not None
        report = build_report(given.failure, settings, environ=env)
    chosen = diagnosers if diagnosers is not None else resolve(
        request.providers if request.providers is not None else settings.report.providers,
        "provider")
    posting = publishers if publishers is not None else resolve(
        request.publish if request.publish is not None else settings.report.publish,
        "publisher")
    ctx = ProviderContext(root=settings.root.resolve(), settings=settings, store=store,
                          environ=env, database_url=database_url,
                          pull_request=request.pull_request)
    clean = _Clean(settings, env)
    _record(store, report)
    _emit(events, "report.built", report.report_id, {
        "fingerprint": report.fingerprint, "error_type": report.error_type,
        "file": report.file, "redactions": report.redactions, "dry_run": request.dry_run})
    if request.dry_run:
        bodies = [Outgoing(p.name, "diagnoser", p.outgoing(report, ctx)) for p in chosen]
        bodies += [Outgoing(p.name, "publisher", p.outgoing(report, None, ctx))
                   for p in posting]
        if store is not None:
            store.set_report_status(report.report_id, "dry-run")
        return ReportOutcome(report, outgoing=bodies)
    reused = None if request.force else _cooled(store, report, settings, ctx)
    if reused is not None:
        _emit(events, "report.reused", report.report_id,
              {"fingerprint": report.fingerprint, "provider": reused.provider})
        outcome = ReportOutcome(report, reused, reused.patch is not None, reused=True)
    else:
        def seen(result: ProviderResult, problems: list[str]) -> None:
            ok = result.diagnosis is not None and not problems
            data = {"provider": result.provider, "reached": result.reached,
                    "tokens": result.tokens, "patch": ok and result.diagnosis is not None
                    and result.diagnosis.patch is not None,
                    "reason": clean.text(result.reason)}
            _emit(events, "report.diagnosed" if ok else "report.diagnosis_failed",
                  report.report_id, data)

        chain = run_chain(report, chosen, ctx, seen)
        diagnosis = _cleaned(chain.diagnosis, clean)
        outcome = ReportOutcome(report, diagnosis, chain.fixed, chain.results)
    published = []
    for publisher in posting:
        result = publisher.publish(report, outcome.diagnosis, ctx)
        published.append(result)
        _emit(events, "report.published" if result.action != "failed"
              else "report.publish_failed", report.report_id,
              {"publisher": result.publisher, "action": result.action, "url": result.url,
               "detail": clean.text(result.detail)})
    code = 0 if outcome.fixed else (4 if outcome.unreached and outcome.diagnosis is None else 1)
    outcome = replace(outcome, published=published, exit_code=code)
    _finish(store, events, outcome, clean)
    return outcome


class _Clean:
    """Redacts what providers sent back before it is stored or emitted."""

    def __init__(self, settings: Settings, environ: Mapping[str, str]) -> None:
        self.paths = PathScrubber(settings.root)
        self.secrets = Scrubber(scrub_keys=settings.report.scrub_keys,
                                safe_keys=settings.report.safe_keys, environ=dict(environ))

    def text(self, text: str) -> str:
        return self.secrets.scrub(self.paths.scrub(text)) if text else text


def _cleaned(diagnosis: Diagnosis | None, clean: _Clean) -> Diagnosis | None:
    """The diagnosis with its prose redacted (the patch is left exact: it must apply)."""
    if diagnosis is None:
        return None
    return replace(diagnosis, summary=clean.text(diagnosis.summary),
                   explanation=clean.text(diagnosis.explanation))


def _emit(events: EventLog | None, type_: str, subject: str, data: dict[str, Any]) -> None:
    if events is not None:
        events.emit(type_, subject, data)


def _record(store: Store | None, report: BugReport) -> None:
    if store is None:
        return
    snippet = "\n".join(report.snippet.lines) if report.snippet else None
    store.add_bug_report(error_message=report.error, service=report.service,
                         file_path=report.file, line_number=report.line, snippet=snippet,
                         stack_trace=report.traceback, fingerprint=report.fingerprint,
                         document=report.to_dict(), report_id=report.report_id)


def _cooled(store: Store | None, report: BugReport, settings: Settings,
            ctx: ProviderContext) -> Diagnosis | None:
    """A diagnosis of the same fingerprint stored within ``report.cooldown``, if its
    patch (when it has one) still validates."""
    if store is None or settings.report.cooldown <= 0:
        return None
    since = (datetime.now(UTC) - timedelta(seconds=settings.report.cooldown)).isoformat(
        timespec="microseconds")
    rows = store.query(
        "SELECT diagnosis FROM guardian_bug_reports WHERE fingerprint = ? AND created_at >= ?"
        " AND diagnosis IS NOT NULL AND report_id <> ? ORDER BY created_at DESC LIMIT 1",
        (report.fingerprint, since, report.report_id))
    if not rows:
        return None
    try:
        stored: Diagnosis = Diagnosis.from_dict(json.loads(rows[0]["diagnosis"]))
    except (CalctlError, ValueError, TypeError):
        return None  # an older or foreign row: ask again
    if stored.patch is not None and patch_problems(stored, ctx):
        return None
    return replace(stored, report_id=report.report_id)


def _finish(store: Store | None, events: EventLog | None, outcome: ReportOutcome,
            clean: _Clean) -> None:
    report = outcome.report
    assert report is not None
    status = "diagnosed" if outcome.fixed else (
        "unreached" if outcome.exit_code == 4 else "no-fix")
    if store is not None:
        diagnosis = outcome.diagnosis
        raw = next((r.raw for r in outcome.results
                    if diagnosis is not None and r.provider == diagnosis.provider), "")
        if diagnosis is not None:
            store.set_diagnosis(
                report.report_id, diagnosis=json.dumps(diagnosis.to_dict()),
                suggested_fix=json.dumps(diagnosis.patch.to_dict()) if diagnosis.patch
                else None, raw_response=clean.text(raw) or None, status=status)
        else:
            store.set_report_status(report.report_id, status)
    _emit(events, "report.finished", report.report_id, {
        "status": status, "provider": outcome.diagnosis.provider if outcome.diagnosis else "",
        "reused": outcome.reused, "exit": outcome.exit_code})
