"""``calctl migrate order``: the dependency-safe order of the migrations.

The command's Typer declaration; what it does is :func:`calctl.cli.migrate._order.run_order`,
which the fast path (:mod:`calctl.cli.quick`) calls too.
"""

from __future__ import annotations

from typing import Annotated

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import (
    AssumeExistsOpt,
    DefineOpt,
    ExcludeOpt,
    GlobOpt,
    JsonOpt,
    SearchPathOpt,
    SortOpt,
)
from calctl.cli.migrate._formats import OutputFormat
from calctl.cli.migrate._options import FormatOpt, MigrationPathsArg
from calctl.cli.migrate._order import run_order


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
    code = run_order(app_context(ctx), paths, check=check,
                     fmt=OutputFormat.json if wants_json(ctx, json_) else format_,
                     glob=glob, exclude=exclude, define=define, search_path=search_path,
                     assume_exists=assume_exists, sort=sort)
    if code:
        raise typer.Exit(code)
