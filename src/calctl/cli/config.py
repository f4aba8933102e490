"""``calctl init`` and ``calctl config show|check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import ForceOpt, JsonOpt

app = typer.Typer(help="Show and check the resolved settings.", no_args_is_help=True)


def init(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Project root to set up.")] = Path("."),
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Write a commented calctl.toml and create the state directory; [migrate] dir is the
    migration directory found in the project (db/migrations, prisma/migrations …)."""
    from calctl.config import CONFIG_FILENAME, STATE_DIRNAME, default_config
    from calctl.errors import UsageError
    from calctl.output import log, plural, print_json
    from calctl.sql.locate import find_migration_directory
    from calctl.state import StateDir

    target = directory.resolve() / CONFIG_FILENAME
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", hint="Pass --force to overwrite it.",
                         code="exists")
    found = find_migration_directory(directory) if directory.is_dir() else None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        target.write_text(default_config(found.directory if found else None),
                          encoding="utf-8")
        target.chmod(0o644)
    except OSError as exc:
        from calctl.errors import StateError

        raise StateError(f"cannot write {target}: {exc.strerror}") from exc
    flags = app_context(ctx).flags
    state = StateDir(Path(flags["state_dir"]) if flags.get("state_dir")
                     else directory.resolve() / STATE_DIRNAME).ensure()
    if wants_json(ctx, json_):
        print_json({"kind": "init", "version": 1, "config_file": str(target),
                    "state_dir": str(state.path),
                    "migrations_dir": found.directory if found else None,
                    "migrations_order": found.order if found else None})
    else:
        seen = "no migrations found; [migrate] dir = \"migrations\""
        if found:
            tool = f", {found.order} layout" if found.order != "natural" else ""
            seen = (f"found {plural(found.files, 'migration')} in {found.directory}{tool}; "
                    f"[migrate] dir = \"{found.directory}\"")
        log(f"wrote {target} ({seen})\ncreated {state.path}")


def _value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


@app.command("show")
def show(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Print every resolved setting with where it came from (secrets masked)."""
    from calctl.output import out_console, print_json

    settings = app_context(ctx).settings()
    rows = settings.items()
    if wants_json(ctx, json_):
        print_json({
            "kind": "config",
            "version": 1,
            "settings": {key: {"value": _value(v), "source": src} for key, v, src in rows},
        })
        return
    from rich.table import Table

    table = Table(box=None, show_header=True, header_style="bold")
    table.add_column("setting", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", style="dim")
    for key, value, source in rows:
        table.add_row(key, repr(_value(value)) if value is not None else "-", source)
    out_console().print(table)


@app.command("check")
def check(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Validate the configuration: exit 0 when it is valid, 2 with the file and line when not."""
    from calctl.config import check_globs
    from calctl.output import log, print_json

    settings = app_context(ctx).settings()
    check_globs(settings)
    where = str(settings.config_file) if settings.config_file else "built-in defaults"
    trusted = not settings.config_untrusted or settings.trust_config
    if wants_json(ctx, json_):
        print_json({"kind": "config-check", "version": 1, "ok": True, "config_file": where,
                    "trusted": trusted, "untrusted_reason": settings.config_untrusted})
    else:
        log(f"configuration OK ({where})"
            + ("" if trusted else " — but not trusted to run commands (see the warning)"))
