"""``calctl guard once``: every health check once, for cron."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import DryRunOpt, JsonOpt
from calctl.output import plural

if TYPE_CHECKING:
    from calctl.documents import GuardRun
    from calctl.guard.once import Healer

app = typer.Typer(name="guard", help="Health checks: run them once (cron), heal what fails.",
                  no_args_is_help=True, add_completion=False)


@app.command("once")
def once(
    ctx: typer.Context,
    heal: Annotated[bool, typer.Option(
        "--heal", help="Take each unhealthy check with heal = true through report, "
        "diagnosis, patch and verification.")] = False,
    check: Annotated[str | None, typer.Option(
        "--check", help="Run only the check of this name.", show_default=False)] = None,
    wait: Annotated[float, typer.Option(
        "--wait", help="Wait this many seconds for another guard run to finish "
        "(default: exit 3 at once).")] = 0.0,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print nothing when every check is healthy.")] = False,
    prometheus: Annotated[Path | None, typer.Option(
        "--prometheus", help="Write node_exporter textfile metrics to this file.",
        show_default=False)] = None,
    dry_run: DryRunOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Run every configured check once; exit 0 healthy, 1 unhealthy, 3 locked."""
    import math

    from calctl.errors import LockedError, UsageError
    from calctl.state import StateDir

    context = app_context(ctx)
    quiet = quiet or bool(context.flags.get("quiet"))
    if not (math.isfinite(wait) and 0 <= wait <= 86_400):
        raise UsageError(f"--wait {wait:g}: must be between 0 and 86400 seconds")
    settings = context.settings()
    from calctl.guard.once import guard_once, select

    specs = select(settings, check)
    healer: Healer | None = None
    if heal:
        from calctl.heal.pipeline import heal as healer  # imported only when healing
    try:
        with StateDir(settings.state_dir).lock("guard", timeout=wait, purpose="guard once"):
            from calctl.heal.recovery import in_flight, recover_interrupted

            if in_flight(settings):  # a killed healer's patch: restored before any check
                recover_interrupted(settings, context.store(), context.events())
            result = guard_once(settings, specs, context.store(), context.events(),
                                healer=healer, dry_run=dry_run, prometheus=prometheus)
    except LockedError:
        if quiet and not wants_json(ctx, json_):
            raise typer.Exit(3) from None  # cron mails any output: say nothing
        raise
    from calctl import lifecycle
    from calctl.output import log, print_json

    # cron runs this every minute: tearing down Typer's, calctl's and sqlite3's modules
    # object by object costs more than the checks; the store has committed
    lifecycle.end_without_teardown()
    for warning in result.warnings:
        log(f"calctl: warning: {warning}")
    if wants_json(ctx, json_):
        print_json(result.document)
    elif not (quiet and result.exit_code == 0):
        _summary(result.document)
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def _summary(run: GuardRun) -> None:
    import sys

    lines = []
    for result in run.checks:
        if result.status == "healthy":
            continue
        where = ""
        if result.finding is not None and result.finding.file:
            line = f":{result.finding.line}" if result.finding.line else ""
            where = f" ({result.finding.file}{line})"
        mark = "UNHEALTHY" if result.status == "unhealthy" else \
            f"failing {result.consecutive_failures}/{result.fail_after}"
        error = result.error.splitlines()[0] if result.error else ""
        lines.append(f"{result.name}: {mark}: {error}{where}")
    unhealthy = sum(1 for c in run.checks if c.status == "unhealthy")
    healed = sum(1 for h in run.heal if h.get("outcome") == "verified")
    state = "healthy" if run.healthy else f"{unhealthy} unhealthy"
    tail = f", {healed} healed" if healed else ""
    lines.append(f"guard: {plural(len(run.checks), 'check')}, {state}{tail} "
                 f"({run.duration:.2f} s)")
    from calctl.terminal import printable

    # check errors quote log lines, HTTP replies and command output: no escape sequences
    sys.stdout.write(printable("\n".join(lines)) + "\n")
    sys.stdout.flush()
