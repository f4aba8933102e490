"""What ``migrate apply``, ``status`` and ``verify`` share: their options, where the
files come from (:class:`~calctl.migrate.commands.Source`), progress lines, the audit
event, and how a run or a failure is printed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from calctl.cli._context import app_context, wants_json

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.documents import MigrationPlan
    from calctl.migrate.commands import CommandResult, Source
    from calctl.migrate.units import Unit

TargetUrlOpt = Annotated[str | None, typer.Option(
    "--database-url", help="PostgreSQL URL of the database to migrate "
    "(default: $DATABASE_URL, or the variable the migrate.database_url_env setting names).",
    show_default=False)]
OrderOpt = Annotated[str, typer.Option(
    "--order", help="plan (dependency-safe, as `migrate order` prints it) or filename.")]
AdoptOpt = Annotated[bool, typer.Option(
    "--adopt", help="Count what the history table of the directory's tool (prisma, "
    "golang-migrate, goose, flyway, diesel, sqlx, dbmate) records as applied, also when "
    "calctl_migrations exists (without it: only when it does not).")]
PlanOpt = Annotated[Path | None, typer.Option(
    "--plan", help="Use this migration-plan document (from `migrate order --json`; - = stdin).",
    show_default=False)]


def source(settings: Settings, directory: Path | None, order: str,
           plan: Path | None) -> Source:
    from calctl.errors import UsageError
    from calctl.migrate.commands import Source
    from calctl.sql.flags import migration_directory

    if order not in ("plan", "filename"):
        raise UsageError(f"--order {order!r} must be plan or filename")
    document = _read_plan(plan) if plan is not None else None
    chosen: Literal["plan", "filename"] = "plan" if order == "plan" else "filename"
    return Source(migration_directory(settings, directory).absolute(), chosen, document)


def _read_plan(path: Path) -> MigrationPlan:
    import sys

    from calctl.documents import MigrationPlan, load_document
    from calctl.errors import UsageError

    if str(path) == "-":
        text, shown = sys.stdin.read(), "<stdin>"
    else:
        try:
            text, shown = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read plan {path}: {exc}") from None
    document = load_document(text, source=shown, accept=(MigrationPlan,))
    assert isinstance(document, MigrationPlan)
    return document


def progress(settings: Settings) -> Any:
    if settings.verbose < 1:
        return None
    from calctl.output import err_console

    def show(unit: Unit, stage: str) -> None:
        if stage == "start":
            how = "" if unit.transactional else f"  (outside a transaction: {unit.outside_reason})"
            err_console().print(f"→ {unit.path}{how}", markup=False)

    return show


def record(ctx: typer.Context, command: str, result: CommandResult) -> None:
    """Leave an event in the audit trail (best effort: the database work is already done)."""
    from calctl.documents import Finding, MigrationRun
    from calctl.errors import CalctlError
    from calctl.output import err_console

    document = result.document
    if isinstance(document, MigrationRun):
        paths = [s.path for s in document.steps if s.status in ("applied", "repaired")]
        adopted = [s.path for s in document.steps if s.status == "adopted"]
        if command == "apply" and not paths and not adopted:
            return
        type_ = "migrate.applied" if command == "apply" else "migrate.verified"
        data = {"database": document.database, "files": paths, "count": len(paths),
                "duration_ms": document.duration_ms}
        if adopted:  # counted as applied from another tool's history, recorded as ours
            data.update(adopted=adopted, adopted_from=document.adopted_from)
    elif isinstance(document, Finding):
        type_ = f"migrate.{command}.failed"
        data = {"file": document.file, "line": document.line, "column": document.column,
                "sqlstate": document.sqlstate, "error": document.error,
                "kind": document.data.get("kind", "")}
    else:
        return
    try:
        app_context(ctx).events().emit(type_, str(document.to_dict().get("directory") or
                                                  document.to_dict().get("file") or ""), data)
    except CalctlError as exc:
        err_console().print(f"calctl: warning: event not recorded: {exc.message}", markup=False)


def render_run(ctx: typer.Context, json_: bool, result: CommandResult,
                settings: Settings) -> None:
    from rich.markup import escape

    from calctl.documents import MigrationRun
    from calctl.migrate.failure import REFUSED
    from calctl.output import err_console, out_console, plural, print_json, quiet

    if wants_json(ctx, json_):
        print_json(result.document)
        if result.exit_code:
            raise typer.Exit(result.exit_code)
        return
    document = result.document
    console = out_console()
    steps = result.outcome.steps if result.outcome else []
    if quiet() and isinstance(document, MigrationRun) and (
            document.command == "verify"
            or not any(s.status in ("applied", "dry_run", "repaired", "adopted")
                       for s in steps)):
        return  # -q: a verified directory, or nothing applied, is nothing to report
    for step in steps:
        if step.status == "failed":
            continue
        label = {"applied": "applied", "dry_run": "ok (rolled back)", "skipped": "skipped",
                 "repaired": "repaired", "adopted": "adopted"}[step.status]
        how = "" if step.transaction else "  [dim](outside a transaction)[/]"
        console.print(f"[green]{label:<16}[/] {escape(step.path)}  "
                      f"[dim]{step.duration_ms:.1f} ms[/]"
                      f"{how}", highlight=False)
        if step.reason and step.status in ("skipped", "adopted"):
            console.print(f"    {step.reason}", markup=False)
        if step.diff:
            console.print(step.diff.rstrip("\n"), markup=False)
    if isinstance(document, MigrationRun) and document.adopted_from:
        adopted = sum(1 for s in steps if s.status == "adopted")
        console.print(f"history read from {document.adopted_from}: {plural(adopted, 'file')} "
                      "recorded there now count as applied", markup=False)
    if isinstance(document, MigrationRun):
        done = sum(1 for s in steps if s.status in ("applied", "dry_run"))
        what = {"apply": "would apply" if document.dry_run else "applied",
                "verify": "verified"}[document.command]
        tail = f" (already applied: {document.already_applied})" if document.command == "apply" \
            else f" on {document.database}"
        if document.command == "apply" and done == 0 and not document.dry_run:
            console.print(f"nothing to apply: {plural(document.already_applied, 'file')} already "
                          f"applied to {document.database}", markup=False)
        else:
            console.print(f"{what} {plural(done, 'file')} in {document.duration_ms / 1000:.2f} s"
                          f"{tail}",
                          markup=False)
        return
    failure = result.failure
    assert failure is not None
    err = err_console()
    err.print(f"calctl: migration failed: {failure.headline()}", markup=False, style="bold red")
    if failure.source_line:
        err.print(f"    {failure.source_line}", markup=False)
        if failure.column:
            err.print("    " + " " * (failure.column - 1) + "^", markup=False)
    for label, value in (("detail", failure.detail), ("context", failure.context),
                         ("hint", failure.hint)):
        if value:
            err.print(f"{label}: {value}", markup=False)
    if failure.others:
        err.print("also: " + ", ".join(failure.others), markup=False)
    if failure.kind in REFUSED:
        err.print("nothing of the file ran; nothing after it ran.", markup=False)
    elif failure.kind == "sql-error":
        note = ("statements before it stayed applied (it ran outside a transaction)"
                if failure.partial else "the file was rolled back")
        err.print(f"{note}; nothing after it ran.", markup=False)
    raise typer.Exit(result.exit_code)
