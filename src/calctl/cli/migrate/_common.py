"""What every ``migrate`` command shares: the discovery flags applied to settings, the
output formats of order/lint, and the parse cache directory."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from calctl.cli._context import AppContext, app_context
from calctl.cli.migrate._formats import OutputFormat

if TYPE_CHECKING:
    import typer

    from calctl.config import Settings
    from calctl.sql.commands import Produce


def migrate_settings(ctx: typer.Context, directory: Path | None, *,
                     glob: list[str] | None = None, exclude: list[str] | None = None,
                     define: list[str] | None = None, search_path: str | None = None,
                     assume_exists: list[str] | None = None,
                     sort: str | None = None) -> tuple[Settings, Path]:
    """Settings with the discovery flags applied, and the migration directory to use."""
    return settings_with_flags(app_context(ctx), directory, glob=glob, exclude=exclude,
                               define=define, search_path=search_path,
                               assume_exists=assume_exists, sort=sort)


def settings_with_flags(context: AppContext, directory: Path | None, *,
                        glob: list[str] | None = None, exclude: list[str] | None = None,
                        define: list[str] | None = None, search_path: str | None = None,
                        assume_exists: list[str] | None = None,
                        sort: str | None = None) -> tuple[Settings, Path]:
    """:func:`migrate_settings` on the command's :class:`AppContext` itself."""
    from calctl.sql.flags import migrate_overrides, with_migrate_flags

    overrides = migrate_overrides(glob=glob, exclude=exclude, search_path=search_path,
                                  sort=sort)
    settings = context.settings(overrides or None)
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


# the formats a CI job uploads: a file calctl cannot read is a result in them (CAL006)
REPORT_FORMATS = frozenset({OutputFormat.github, OutputFormat.sarif, OutputFormat.gitlab,
                            OutputFormat.junit})


def cached_run(scope: str, path: Path, settings: Settings, flags: tuple[object, ...],
               produce: Produce, fmt: OutputFormat | None = None, *,
               replay: bool = True) -> int:
    """Write the output of :func:`calctl.sql.commands.cached_output` on stdout; its code.
    In a report format (``fmt``), migrations that cannot be read are CAL006 results."""
    import sys

    from calctl.cli._styled import style_key
    from calctl.errors import UsageError
    from calctl.output import quiet
    from calctl.sql.commands import cached_output

    # -q changes what is printed: part of the key (sql.early guesses it the same way)
    flags = (*flags, quiet())
    try:
        text, code = cached_output(scope, path, settings, flags, produce,
                                   cache_dir=cache_dir, style=style_key(), replay=replay)
    except UsageError as exc:
        if fmt not in REPORT_FORMATS:
            raise
        text, code = _unreadable_report(exc, scope, path, settings, fmt)
    sys.stdout.write(text)
    sys.stdout.flush()
    return code


def _unreadable_report(exc: Exception, scope: str, path: Path, settings: Settings,
                       fmt: OutputFormat) -> tuple[str, int]:
    """The report of the migrations that cannot be read (exit 1), or ``exc`` again when
    none is to blame."""
    from calctl.cli.migrate._render import render_problems
    from calctl.sql.unreadable import UNREADABLE_CODES, unreadable_problems

    if getattr(exc, "code", "") not in UNREADABLE_CODES:
        raise exc
    problems = unreadable_problems(path, settings.migrate)
    if not problems:
        raise exc
    return render_problems(problems, path, fmt, scope=scope,
                           docs_url=settings.migrate.rules_docs_url), 1
