"""What ``calctl migrate order`` does once its line is parsed, by Typer
(:mod:`calctl.cli.migrate.order`) or by the fast path (:mod:`calctl.cli.quick`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.cli.migrate._common import cached_run, settings_with_flags
from calctl.cli.migrate._formats import OutputFormat
from calctl.cli.migrate._targets import each_target

if TYPE_CHECKING:
    from calctl.cli._context import AppContext
    from calctl.sql.commands import Discovered


def run_order(context: AppContext, paths: Sequence[Path] | None, *, check: bool,
              fmt: OutputFormat, glob: list[str] | None = None,
              exclude: list[str] | None = None, define: list[str] | None = None,
              search_path: str | None = None, assume_exists: list[str] | None = None,
              sort: str | None = None) -> int:
    """Print the plan of every target directory; the exit code."""
    from calctl.cli.migrate._render import render_plan
    from calctl.sql.commands import order_plan

    settings, default = settings_with_flags(context, None, glob=glob, exclude=exclude,
                                            define=define, search_path=search_path,
                                            assume_exists=assume_exists, sort=sort)

    def produce(run: Discovered) -> tuple[str, int]:
        plan = order_plan(run)
        return (render_plan(plan, run.path, fmt, check=check,
                            docs_url=settings.migrate.rules_docs_url),
                int(check and not plan.safe))

    code = 0
    for path in each_target(settings, default, paths, fmt.value):
        code = max(code, cached_run("order", path, settings, (fmt.value, check), produce,
                                    fmt))
    return code
