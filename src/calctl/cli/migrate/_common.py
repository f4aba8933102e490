"""What every ``migrate`` command shares: the discovery flags applied to settings, the
output formats of order/lint, and the parse cache directory."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from calctl.cli._context import app_context

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.sql.commands import Produce


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
                     assume_exists: list[str] | None = None,
                     sort: str | None = None) -> tuple[Settings, Path]:
    """Settings with the discovery flags applied, and the migration directory to use."""
    from calctl.sql.flags import migrate_overrides, with_migrate_flags

    overrides = migrate_overrides(glob=glob, exclude=exclude, search_path=search_path,
                                  sort=sort)
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


def cached_run(scope: str, path: Path, settings: Settings, flags: tuple[object, ...],
               produce: Produce) -> int:
    """Write the output of :func:`calctl.sql.commands.cached_output` on stdout; its code."""
    import sys

    from calctl.cli._styled import style_key
    from calctl.output import quiet
    from calctl.sql.commands import cached_output

    # -q changes what is printed: part of the key (sql.early guesses it the same way)
    flags = (*flags, quiet())
    text, code = cached_output(scope, path, settings, flags, produce,
                               cache_dir=cache_dir, style=style_key())
    sys.stdout.write(text)
    sys.stdout.flush()
    return code
