"""``calctl migrate apply``: apply pending migrations to a database."""

from __future__ import annotations

from typing import Annotated

import typer

from calctl.cli._options import (
    AssumeExistsOpt,
    DefineOpt,
    DryRunOpt,
    ExcludeOpt,
    GlobOpt,
    JsonOpt,
    MigrationDirArg,
    SearchPathOpt,
    SortOpt,
)
from calctl.cli.migrate._common import migrate_settings
from calctl.cli.migrate._run import (
    AdoptOpt,
    OrderOpt,
    PlanOpt,
    TargetUrlOpt,
    progress,
    record,
    render_run,
    source,
)


def apply(
    ctx: typer.Context,
    directory: MigrationDirArg = None,
    database_url: TargetUrlOpt = None,
    lock_timeout: Annotated[float | None, typer.Option(
        "--lock-timeout", help="Seconds to wait for another applier (default 60).",
        show_default=False)] = None,
    repair: Annotated[bool, typer.Option(
        "--repair", help="Accept changed applied files: show the difference, record the new "
        "checksum.")] = False,
    out_of_order: Annotated[bool, typer.Option(
        "--out-of-order", help="Also apply pending files that sort before applied ones.")
    ] = False,
    to: Annotated[str | None, typer.Option("--to", help="Stop after this file.",
                                           show_default=False)] = None,
    dry_run: DryRunOpt = False,
    adopt: AdoptOpt = False,
    order: OrderOpt = "plan",
    plan: PlanOpt = None,
    glob: GlobOpt = None,
    exclude: ExcludeOpt = None,
    define: DefineOpt = None,
    search_path: SearchPathOpt = None,
    assume_exists: AssumeExistsOpt = None,
    sort: SortOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Apply pending migrations, one transaction per file, under an advisory lock."""
    from calctl.migrate.commands import apply_command
    from calctl.migrate.engine import ApplyOptions
    from calctl.migrate.target import resolve_url
    from calctl.output import log

    settings, directory = migrate_settings(ctx, directory, glob=glob, exclude=exclude,
                                           define=define, search_path=search_path,
                                           assume_exists=assume_exists, sort=sort)
    if lock_timeout is not None:
        from dataclasses import replace

        from calctl.config import check_range

        check_range("migrate.lock_timeout", lock_timeout, "--lock-timeout")
        settings = replace(settings, migrate=replace(settings.migrate, lock_timeout=lock_timeout))
    url = resolve_url(database_url, settings.migrate)
    assert url is not None
    result = apply_command(
        settings, source(settings, directory, order, plan), url,
        ApplyOptions(dry_run=dry_run, to=to, repair=repair, out_of_order=out_of_order,
                     adopt=adopt),
        lock_timeout=settings.migrate.lock_timeout, progress=progress(settings),
        waiting=lambda note: log(f"calctl: {note}"))
    if not dry_run:
        record(ctx, "apply", result)
    render_run(ctx, json_, result, settings)
