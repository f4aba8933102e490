"""``calctl migrate lint``: every problem of every rule, without a database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from calctl.cli._context import wants_json
from calctl.cli._options import (
    AssumeExistsOpt,
    DefineOpt,
    ExcludeOpt,
    GlobOpt,
    JsonOpt,
    SearchPathOpt,
    SortOpt,
)
from calctl.cli.migrate._common import cached_run, migrate_settings
from calctl.cli.migrate._formats import OutputFormat
from calctl.cli.migrate._lintopts import (
    BaselineOpt,
    ChangedSinceOpt,
    ExitZeroOpt,
    ExtendSelectOpt,
    IgnoreOpt,
    LintOptions,
    LintTargetOpt,
    PgVersionOpt,
    SelectOpt,
    WriteBaselineOpt,
)
from calctl.cli.migrate._options import FormatOpt, MigrationPathsArg
from calctl.cli.migrate._targets import each_target

if TYPE_CHECKING:
    from calctl.documents import LintReport


def lint(
    ctx: typer.Context,
    paths: MigrationPathsArg = None,
    format_: FormatOpt = OutputFormat.text,
    fail_on: Annotated[str, typer.Option(
        "--fail-on", help="Lowest severity that makes the exit code 1: error or warning.")
    ] = "error",
    json_: JsonOpt = False,
    glob: GlobOpt = None,
    exclude: ExcludeOpt = None,
    define: DefineOpt = None,
    search_path: SearchPathOpt = None,
    assume_exists: AssumeExistsOpt = None,
    sort: SortOpt = None,
    select: SelectOpt = None,
    extend_select: ExtendSelectOpt = None,
    ignore: IgnoreOpt = None,
    exit_zero: ExitZeroOpt = False,
    baseline: BaselineOpt = None,
    write_baseline: WriteBaselineOpt = None,
    changed_since: ChangedSinceOpt = None,
    pg_version: PgVersionOpt = None,
    database_url: LintTargetOpt = None,
    fix: Annotated[bool, typer.Option(
        "--fix", help="Apply the rules' fixes as one patch (snapshot, verify, rollback), "
        "only to files git has not committed yet, or that the --database-url target has "
        "not applied.")] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print the fixes as a diff (with --json: the document, its patch "
        "included); change nothing.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="With --fix: also fix files git has committed.")] = False,
) -> None:
    """Report problems without a database: ordering, duplicates, unsafe DDL."""
    from calctl.cli.migrate._lintopts import prepare
    from calctl.cli.migrate._render import render_lint
    from calctl.errors import UsageError
    from calctl.sql.commands import Discovered, lint_report

    if fail_on not in ("error", "warning"):
        raise UsageError(f"--fail-on must be error or warning, not {fail_on!r}")
    settings, default = migrate_settings(ctx, None, glob=glob, exclude=exclude,
                                         define=define, search_path=search_path,
                                         assume_exists=assume_exists, sort=sort)
    fmt = OutputFormat.json if wants_json(ctx, json_) else format_
    failing = {"error"} if fail_on == "error" else {"error", "warning"}
    options = LintOptions(select, extend_select, ignore, exit_zero, baseline, write_baseline,
                          changed_since, pg_version, database_url)
    if force and not (fix or diff):
        raise UsageError("--force only goes with --fix or --diff", hint="Add --fix.")

    def lint_one(path: Path) -> int:
        plan = prepare(settings, path, options)

        def report_of(run: Discovered) -> LintReport:
            return plan.filter(lint_report(run, plan.context(run.files) or None), run.files)

        if fix or diff:
            from calctl.cli.migrate._fix import FixRequest, lint_fix

            return lint_fix(ctx, settings, path, fmt, FixRequest(
                diff=diff, force=force, database_url=database_url, report_of=report_of),
                failing)

        def produce(run: Discovered) -> tuple[str, int]:
            report = report_of(run)
            if write_baseline is not None:
                from calctl.cli.migrate._lintopts import write_baseline as write

                return write(write_baseline, path, report, run.files,
                             as_json=fmt == OutputFormat.json), 0
            return (render_lint(report, run.path, fmt, files=[f.path for f in run.files],
                                docs_url=settings.migrate.rules_docs_url),
                    int(any(p.severity in failing for p in report.problems)
                        and not exit_zero))

        # a plain run's flags are the early child's guess (calctl.sql.early): extras only
        # when something differs from it
        flags = (fmt.value, fail_on, *plan.key(), *(("exit-zero",) if exit_zero else ()))
        return cached_run("lint", path, settings, flags, produce, fmt,
                          replay=write_baseline is None)

    code = 0
    for path in each_target(settings, default, paths, fmt.value):
        code = max(code, lint_one(path))
    if code:
        raise typer.Exit(code)
