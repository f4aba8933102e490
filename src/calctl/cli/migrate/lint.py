"""``calctl migrate lint``: every problem of every rule, without a database."""

from __future__ import annotations

from typing import Annotated

import typer

from calctl.cli._context import wants_json
from calctl.cli._options import (
    AssumeExistsOpt,
    DefineOpt,
    ExcludeOpt,
    GlobOpt,
    JsonOpt,
    MigrationDirArg,
    SearchPathOpt,
    SortOpt,
)
from calctl.cli.migrate._common import FormatOpt, OutputFormat, cached_run, migrate_settings
from calctl.cli.migrate._run import TargetUrlOpt


def lint(
    ctx: typer.Context,
    directory: MigrationDirArg = None,
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
    fix: Annotated[bool, typer.Option(
        "--fix", help="Apply the rules' fixes as one patch (snapshot, verify, rollback), "
        "only to files git has not committed yet, or that the --database-url target has "
        "not applied.")] = False,
    diff: Annotated[bool, typer.Option(
        "--diff", help="Print the fixes as a diff (with --json: the document, its patch "
        "included); change nothing.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="With --fix: also fix files git has committed.")] = False,
    database_url: TargetUrlOpt = None,
) -> None:
    """Report problems without a database: ordering, duplicates, unsafe DDL."""
    from calctl.cli.migrate._render import render_lint
    from calctl.errors import UsageError
    from calctl.sql.commands import Discovered, lint_report

    if fail_on not in ("error", "warning"):
        raise UsageError(f"--fail-on must be error or warning, not {fail_on!r}")
    settings, path = migrate_settings(ctx, directory, glob=glob, exclude=exclude,
                                      define=define, search_path=search_path,
                                      assume_exists=assume_exists, sort=sort)
    fmt = OutputFormat.json if wants_json(ctx, json_) else format_
    failing = {"error"} if fail_on == "error" else {"error", "warning"}
    if force and not (fix or diff):
        raise UsageError("--force only goes with --fix or --diff", hint="Add --fix.")
    if fix or diff:
        from calctl.cli.migrate._fix import FixRequest, lint_fix

        raise typer.Exit(lint_fix(ctx, settings, path, fmt, FixRequest(
            diff=diff, force=force, database_url=database_url), failing))

    def produce(run: Discovered) -> tuple[str, int]:
        report = lint_report(run)
        return (render_lint(report, path, fmt, files=[f.path for f in run.files],
                            docs_url=settings.migrate.rules_docs_url),
                int(any(p.severity in failing for p in report.problems)))

    code = cached_run("lint", path, settings, (fmt.value, fail_on), produce, fmt)
    if code:
        raise typer.Exit(code)
