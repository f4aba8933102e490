"""``calctl migrate order|lint|rules`` (and, later, ``apply|status|verify``).

Every command takes the same discovery flags (``--glob``, ``--exclude``,
``--define``, ``--search-path``, ``--assume-exists``); :func:`migrate_settings`
turns them into resolved settings and the directory, for any command here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import (
    AssumeExistsOpt,
    DefineOpt,
    ExcludeOpt,
    GlobOpt,
    JsonOpt,
    MigrationDirArg,
    SearchPathOpt,
)

if TYPE_CHECKING:
    from calctl.cli._styled import Line
    from calctl.config import Settings
    from calctl.documents import LintReport, MigrationPlan, Problem
    from calctl.sql.discovery import MigrationFile

app = typer.Typer(help="Order, lint and apply the SQL migrations of a directory.",
                  no_args_is_help=True)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", help="text (default), json, github (workflow annotations) or "
                 "sarif (2.1.0, for code scanning).", case_sensitive=False),
]


def migrate_settings(ctx: typer.Context, directory: Path | None, *,
                     glob: list[str] | None = None, exclude: list[str] | None = None,
                     define: list[str] | None = None, search_path: str | None = None,
                     assume_exists: list[str] | None = None) -> tuple[Settings, Path]:
    """Settings with the discovery flags applied, and the migration directory to use."""
    from calctl.sql.flags import migrate_overrides, with_migrate_flags

    overrides = migrate_overrides(glob=glob, exclude=exclude, search_path=search_path)
    settings = app_context(ctx).settings(overrides or None)
    return with_migrate_flags(settings, directory, define=define, assume_exists=assume_exists)


def cache_dir(settings: Settings) -> Path | None:
    """The parse cache directory, or None when the state directory cannot be made."""
    from calctl.cli._context import warn_if_git_tracks
    from calctl.errors import StateError
    from calctl.state import StateDir

    try:
        cache = StateDir(settings.state_dir).ensure().cache
    except StateError:
        return None
    warn_if_git_tracks(settings.state_dir)
    return cache


@app.command("order")
def order(
    ctx: typer.Context,
    directory: MigrationDirArg = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 1 when filename order is unsafe (a file needs a later one), "
        "on a cycle, or on an error-level problem.")] = False,
    format_: FormatOpt = OutputFormat.text,
    json_: JsonOpt = False,
    glob: GlobOpt = None,
    exclude: ExcludeOpt = None,
    define: DefineOpt = None,
    search_path: SearchPathOpt = None,
    assume_exists: AssumeExistsOpt = None,
) -> None:
    """Print the dependency-safe order of the migrations, explaining every move."""
    settings, path = migrate_settings(ctx, directory, glob=glob, exclude=exclude,
                                      define=define, search_path=search_path,
                                      assume_exists=assume_exists)
    fmt = OutputFormat.json if wants_json(ctx, json_) else format_
    code = _cached_run("order", path, settings, (fmt.value, check),
                       lambda files, keys, cache: _order_output(
                           path, settings, files, keys, cache, fmt, check))
    if code:
        raise typer.Exit(code)


def _order_output(path: Path, settings: Settings, files: list[MigrationFile],
                  keys: list[bytes], cache: Path | None, fmt: OutputFormat,
                  check: bool) -> tuple[str, int]:
    from calctl.entry import hold
    from calctl.sql.runtime import build_plan

    plan, _ = build_plan(path, settings.migrate, cache_dir=cache, files=files, keys=keys,
                         remember=False)  # what it prints is what is remembered
    hold(plan)
    return _render_plan(plan, path, fmt, check=check), int(check and not plan.safe)


def _cached_run(scope: str, path: Path, settings: Settings, flags: tuple[Any, ...],
                produce: Callable[[list[MigrationFile], list[bytes], Path | None],
                                  tuple[str, int]]) -> int:
    """Print the command's output, replaying it when the directory and flags are unchanged.

    An unchanged directory (every file's content hash) with the same settings and flags
    prints what it printed last time: a warm CI run reads and hashes the files and
    nothing else.
    """
    from calctl.sql.cache import file_keys, load_output, output_key, store_output
    from calctl.sql.discovery import discover

    migrate = settings.migrate
    files = discover(path, globs=migrate.glob, exclude=migrate.exclude)
    keys = file_keys(files, migrate)
    cache = cache_dir(settings)
    from calctl.cli._styled import style_key

    key = output_key(scope, path, files, keys, migrate, flags, style_key())
    replay = load_output(cache, key)
    if replay is None:
        from calctl.entry import end_without_teardown, hold

        # the analysis is never freed nor collected: the process ends after printing
        end_without_teardown()
        hold(files)
        text, code = produce(files, keys, cache)
        store_output(cache, key, text, code)
    else:
        text, code = replay
    sys.stdout.write(text)
    sys.stdout.flush()
    return code


@app.command("lint")
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
) -> None:
    """Report problems without a database: ordering, duplicates, unsafe DDL."""
    from calctl.errors import UsageError
    from calctl.sql.runtime import lint_directory

    if fail_on not in ("error", "warning"):
        raise UsageError(f"--fail-on must be error or warning, not {fail_on!r}")
    settings, path = migrate_settings(ctx, directory, glob=glob, exclude=exclude,
                                      define=define, search_path=search_path,
                                      assume_exists=assume_exists)
    fmt = OutputFormat.json if wants_json(ctx, json_) else format_
    failing = {"error"} if fail_on == "error" else {"error", "warning"}

    def produce(files: list[MigrationFile], keys: list[bytes], cache: Path | None,
                ) -> tuple[str, int]:
        from calctl.entry import hold

        report = lint_directory(path, settings.migrate, cache_dir=cache, files=files,
                                keys=keys)
        hold(report)
        return (_render_lint(report, path, fmt),
                int(any(p.severity in failing for p in report.problems)))

    code = _cached_run("lint", path, settings, (fmt.value, fail_on), produce)
    if code:
        raise typer.Exit(code)


@app.command("rules")
def rules(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the lint rules: code, name, severity, where they run, what they catch."""
    from calctl.sql.rules import RULES

    rows = [{"code": cls.code, "name": cls.name, "severity": cls.severity,
             "scope": cls.scope, "summary": cls.summary(),
             "doc": " ".join((cls.__doc__ or "").split())} for cls in RULES]
    if wants_json(ctx, json_):
        from calctl.output import print_json

        print_json({"kind": "migration-rules", "version": 1, "rules": rows})
        return
    from rich.table import Table

    from calctl.output import out_console

    table = Table(box=None, header_style="bold")
    for column in ("code", "name", "severity", "runs in", "summary"):
        table.add_column(column)
    for row in rows:
        scope = "order, lint" if row["scope"] == "order" else "lint"
        table.add_row(row["code"], row["name"], row["severity"], scope, row["summary"])
    out_console().print(table)


# ---------------------------------------------------------------- rendering
# Renderers return the text instead of printing it, so a warm run can replay it.


def _problems_machine(problems: list[Problem], path: Path, fmt: OutputFormat) -> str | None:
    from calctl.cli._problem_formats import github_lines, sarif
    from calctl.output import to_json

    if fmt is OutputFormat.github:
        return "".join(line + "\n" for line in github_lines(path, problems))
    if fmt is OutputFormat.sarif:
        return to_json(sarif(path, problems)) + "\n"
    return None


def _render_plan(plan: MigrationPlan, path: Path, fmt: OutputFormat, *, check: bool) -> str:
    if fmt is OutputFormat.json:
        from calctl.output import to_json

        return to_json(plan) + "\n"
    machine = _problems_machine(plan.problems, path, fmt)
    if machine is not None:
        return machine
    from calctl.cli._styled import render

    moved = [f for f in plan.files if f.moved_from is not None]
    out: list[Line] = []
    if not check:
        width = len(str(len(plan.files)))
        for f in plan.files:
            if f.moved_from is None:
                out.append([(f"{f.position + 1:>{width}}  {f.path}", "")])
            else:
                out.append([(f"{f.position + 1:>{width}}  {f.path}  "
                             f"(moved from {f.moved_from + 1}: {f.reason})", "bold yellow")])
    else:
        for f in moved:
            was = (f.moved_from or 0) + 1
            out.append([(f"move {f.path} from position {was} to {f.position + 1}: "
                         f"{f.reason}", "bold yellow")])
    out.extend(_problem_lines(plan.problems))
    counts = _counts(plan.problems)
    verdict: Line
    if plan.safe:
        verdict = [("filename order is safe", "green"),
                   (f" ({len(plan.files)} files; {counts})", "")]
    elif moved:
        where = "" if check else ", as listed above"
        verdict = [("filename order is unsafe", "red"),
                   (f": {len(moved)} of {len(plan.files)} files must move{where} ({counts})",
                    "")]
    else:
        verdict = [("problems found", "red"), (f" ({len(plan.files)} files; {counts})", "")]
    out.append(verdict)
    return render(out)


def _counts(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    return (f"{errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}")


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _problem_lines(problems: list[Problem]) -> list[Line]:
    lines: list[Line] = []
    for p in problems:
        where = f"{p.path}:{p.line}" if p.line else p.path
        lines.append([(f"{p.severity:<7}", _SEVERITY_STYLE[p.severity]),
                      (f" {p.code} {where}  {p.message}", "")])
        if p.hint:
            lines.append([("        ", ""), (f"hint: {p.hint}", "dim")])
    return lines


def _render_lint(report: LintReport, path: Path, fmt: OutputFormat) -> str:
    if fmt is OutputFormat.json:
        from calctl.output import to_json

        return to_json(report) + "\n"
    machine = _problems_machine(report.problems, path, fmt)
    if machine is not None:
        return machine
    from calctl.cli._styled import render

    return render([*_problem_lines(report.problems),
                   [(f"{report.files} files checked: {_counts(report.problems)}", "")]])
