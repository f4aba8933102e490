"""``calctl report``: package a failure into a scrubbed bug report, diagnose it, publish it."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import DryRunOpt, JsonOpt

if TYPE_CHECKING:
    from calctl.report.command import ReportOutcome


def report(
    ctx: typer.Context,
    error_text: Annotated[str | None, typer.Argument(
        metavar="[ERROR_TEXT]", help="The error (message or pasted traceback); - reads a log "
        "or a finding/guard-run/bug-report document from stdin.", show_default=False)] = None,
    log: Annotated[str | None, typer.Option(
        "--log", help="A log file to take the last error from (- for stdin).",
        show_default=False)] = None,
    file: Annotated[str | None, typer.Option(
        "--file", help="The failing file (with ERROR_TEXT), relative to the project root.",
        show_default=False)] = None,
    line: Annotated[int | None, typer.Option(
        "--line", help="The failing line of --file.", show_default=False)] = None,
    provider: Annotated[list[str] | None, typer.Option(
        "--provider", help="Diagnoser to ask, in order (repeatable; default: \\[report] "
        "providers).", show_default=False)] = None,
    publish: Annotated[list[str] | None, typer.Option(
        "--publish", help="Publisher: github or coderabbit (repeatable; default: \\[report] "
        "publish).", show_default=False)] = None,
    pull_request: Annotated[bool, typer.Option(
        "--pull-request", help="With --publish github and a patch: open a pull request.")
    ] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Ask the diagnosers even when this fault was diagnosed within "
        "report.cooldown.")] = False,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Package a failure into a minimal, scrubbed bug report and get a diagnosis.

    Exit 0 diagnosed with a patch that validates (--dry-run: the report was built),
    1 reported without a fix, 2 bad input, 4 no diagnoser could be reached.
    """
    from calctl.errors import ExternalError, UsageError
    from calctl.patch.context import app_database_url
    from calctl.report.command import ReportRequest, run_report

    context = app_context(ctx)
    settings = context.settings()
    as_json = wants_json(ctx, json_)
    stdin_wanted = error_text == "-" or log == "-"
    if error_text == "-" and log is not None:
        raise UsageError("read stdin once: give - or --log, not both", code="report-usage")
    stream: Any = None
    name = "<stdin>"
    if stdin_wanted:
        stream = sys.stdin.buffer
    elif log is not None:
        stream, name = _open_log(log), log
    elif error_text is None and file is None:
        if sys.stdin.isatty():
            raise UsageError("nothing to report", hint="Pass an error text, --log FILE, or - "
                             "to read a log or a document from stdin.", code="report-no-input")
        stream = sys.stdin.buffer
    if not dry_run and (settings.from_config_file("report.providers")
                        or settings.from_config_file("report.publish")):
        settings.require_trusted_config("send bug reports where its [report] section says")
    request = ReportRequest(
        text=None if error_text == "-" else error_text, stream=stream, stream_name=name,
        file=file, line=line, providers=tuple(provider) if provider else None,
        publish=tuple(publish) if publish else None, pull_request=pull_request,
        dry_run=dry_run, force=force)
    try:
        outcome = run_report(request, settings, store=context.store(),
                             events=context.events(), database_url=app_database_url(settings))
    finally:
        if stream is not None and stream is not sys.stdin.buffer:
            stream.close()
    if outcome.exit_code == 4:
        reasons = "; ".join(f"{r.provider}: {r.reason}" for r in outcome.results)
        raise ExternalError(f"no diagnoser could be reached ({reasons})",
                            hint="Check the [openai]/[github] settings and the network, or "
                            "use an offline provider (--provider rules).",
                            code="report-unreached")
    _render(outcome, as_json=as_json, dry_run=dry_run)
    if outcome.exit_code:
        raise typer.Exit(outcome.exit_code)


def _open_log(path: str) -> Any:
    import os

    from calctl.errors import UsageError

    if os.path.isdir(path):
        raise UsageError(f"--log {path}: is a directory, not a log file", code="report-input")
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"--log {path}: cannot read it: {exc.strerror}",
                         code="report-input") from exc


def _render(outcome: ReportOutcome, *, as_json: bool, dry_run: bool) -> None:
    from calctl.output import out_console, plural, print_json, quiet, to_json

    if outcome.healthy:
        if as_json:
            print_json({"kind": "diagnosis", "version": 1, "provider": "",
                        "summary": "nothing to report: every check is healthy"})
        elif not quiet():
            out_console().print("nothing to report: every check is healthy", markup=False)
        return
    report = outcome.report
    assert report is not None
    if as_json:
        if dry_run:
            print_json(report)
        else:
            print_json(outcome.diagnosis or _none(outcome))
        return
    from calctl.terminal import printable

    out = out_console()

    def say(text: str, **style: Any) -> None:
        # what reaches the screen here comes from logs, repository files and model
        # replies: never an escape sequence
        out.print(printable(text), markup=False, **style)

    where = f"  ({report.file}:{report.line})" if report.file else ""
    say(f"report {report.report_id} {report.fingerprint}: {report.error_type or 'error'}"
        f": {report.error.splitlines()[0] if report.error else ''}{where}", style="bold")
    if report.redactions:
        say(f"  redacted {plural(report.redactions, 'secret')}: " + ", ".join(
            f"{k} {v}" for k, v in report.redactions_by_type.items()))
    if dry_run:
        if not outcome.outgoing:
            say("no provider or publisher chosen: nothing would leave the machine")
        for item in outcome.outgoing:
            if item.body is None:
                say(f"--- {item.role} {item.name}: nothing leaves the machine")
            else:
                say(f"--- {item.role} {item.name} would send:")
                say(to_json(item.body))
        return
    for result in outcome.results:
        state = "fix" if outcome.fixed and outcome.diagnosis is not None and \
            result.provider == outcome.diagnosis.provider else (result.reason or "no diagnosis")
        say(f"  {result.provider}: {state}")
    diagnosis = outcome.diagnosis
    if diagnosis is None:
        say("no diagnosis", style="yellow")
    else:
        label = "reused " if outcome.reused else ""
        say(f"{label}diagnosis by {diagnosis.provider}: {diagnosis.summary}",
            style="green" if outcome.fixed else "yellow")
        if diagnosis.explanation:
            say(diagnosis.explanation)
        if diagnosis.patch is not None:
            say(f"patch: {plural(len(diagnosis.patch.edits), 'edit')}; apply it with "
                "`calctl report … --json | calctl patch apply -`")
    for published in outcome.published:
        say(f"  published to {published.publisher}: {published.action} "
            f"{published.url or published.detail}")


def _none(outcome: ReportOutcome) -> Any:
    from calctl.documents.report import Diagnosis

    report = outcome.report
    assert report is not None
    reasons = "; ".join(f"{r.provider}: {r.reason}" for r in outcome.results if r.reason)
    return Diagnosis(provider="", summary="no diagnosis" + (f" ({reasons})" if reasons else
                     " (no diagnoser chosen)"), report_id=report.report_id,
                     fingerprint=report.fingerprint)
