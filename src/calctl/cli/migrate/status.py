"""``calctl migrate status``: every file's state against a database's history."""

from __future__ import annotations

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
from calctl.cli.migrate._common import migrate_settings
from calctl.cli.migrate._run import AdoptOpt, OrderOpt, PlanOpt, TargetUrlOpt, source


def status(
    ctx: typer.Context,
    directory: MigrationDirArg = None,
    database_url: TargetUrlOpt = None,
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
    """Every file's state: applied, pending, changed, failed or missing-locally."""
    from rich.markup import escape

    from calctl.documents import MigrationStatus
    from calctl.migrate.commands import status_command
    from calctl.migrate.target import resolve_url
    from calctl.output import out_console, print_json, quiet

    settings, directory = migrate_settings(ctx, directory, glob=glob, exclude=exclude,
                                           define=define, search_path=search_path,
                                           assume_exists=assume_exists, sort=sort)
    url = resolve_url(database_url, settings.migrate, command="status")
    assert url is not None
    result = status_command(settings, source(settings, directory, order, plan), url,
                            adopt=adopt)
    document = result.document
    assert isinstance(document, MigrationStatus)
    if wants_json(ctx, json_):
        print_json(document)
    else:
        console = out_console()
        styles = {"applied": "green", "pending": "yellow", "changed": "bold red",
                  "failed": "bold red", "missing-locally": "bold red"}
        # -q: only the files that are not applied, and nothing when every one is
        shown = [r for r in document.files if not (quiet() and r.state == "applied")]
        for row in shown:
            when = row.applied_at[:19].replace("T", " ") if row.applied_at else ""
            console.print(f"[{styles[row.state]}]{row.state:<16}[/] {escape(row.path)}  "
                          f"[dim]{when}[/]", highlight=False)
            if row.state == "failed" and row.error:
                console.print(f"    {row.error}", markup=False)
        counts: dict[str, int] = {}
        for row in document.files:
            counts[row.state] = counts.get(row.state, 0) + 1
        whose = ""
        if document.history != "calctl":
            tool = document.history.removeprefix("calctl+")
            whose = (f"; history: {tool}'s {document.history_table}"
                     + (" and calctl_migrations" if document.history.startswith("calctl+")
                        else ""))
        if shown or not quiet():
            console.print(", ".join(f"{n} {state}" for state, n in counts.items()) + f" — "
                          f"{document.database}{whose}", markup=False)
    if result.exit_code:
        raise typer.Exit(result.exit_code)
