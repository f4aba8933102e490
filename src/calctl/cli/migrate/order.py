"""``calctl migrate order``: the dependency-safe order of the migrations."""

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
    SearchPathOpt,
    SortOpt,
)
from calctl.cli.migrate._common import FormatOpt, OutputFormat, cached_run, migrate_settings
from calctl.cli.migrate._targets import MigrationPathsArg, each_target


def order(
    ctx: typer.Context,
    paths: MigrationPathsArg = None,
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
    sort: SortOpt = None,
) -> None:
    """Print the dependency-safe order of the migrations, explaining every move."""
    from calctl.cli.migrate._render import render_plan
    from calctl.sql.commands import Discovered, order_plan

    settings, default = migrate_settings(ctx, None, glob=glob, exclude=exclude,
                                      define=define, search_path=search_path,
                                      assume_exists=assume_exists, sort=sort)
    fmt = OutputFormat.json if wants_json(ctx, json_) else format_

    def produce(run: Discovered) -> tuple[str, int]:
        plan = order_plan(run)
        return (render_plan(plan, run.path, fmt, check=check,
                            docs_url=settings.migrate.rules_docs_url),
                int(check and not plan.safe))

    code = 0
    for path in each_target(settings, default, paths, fmt.value):
        code = max(code, cached_run("order", path, settings, (fmt.value, check), produce,
                                    fmt))
    if code:
        raise typer.Exit(code)
