"""``-q/--quiet`` after the command name too: ``calctl migrate apply -q`` as
``calctl -q migrate apply``, for cron lines written either way.

The root's option is the one Typer builds; every other command of the built tree gets
the same flag here (a command that has its own, like ``guard once``, keeps it). Both set
one switch (:func:`calctl.output.set_quiet`) and the global flag the settings read, before
the command body runs: Click parses a command's options after its parents' callbacks and
before calling it.
"""

from __future__ import annotations

from typing import Any

import typer

HELP = ("Print nothing when there is nothing to report (for cron); problems and errors "
        "still print.")


def _set(ctx: typer.Context, _param: Any, value: bool) -> bool:
    if value:
        from calctl.cli._context import app_context
        from calctl.output import set_quiet

        app_context(ctx).flags["quiet"] = True
        set_quiet(True)
    return value


def add_quiet(command: Any) -> None:
    """Give every command below ``command`` a ``-q/--quiet`` that sets the global one."""
    from typer.core import TyperOption

    todo: list[Any] = list(getattr(command, "commands", {}).values())
    while todo:
        current = todo.pop()  # groups too: `calctl migrate -q apply`
        todo.extend(getattr(current, "commands", {}).values())
        if any("-q" in getattr(p, "opts", ()) for p in current.params):
            continue
        current.params.append(TyperOption(
            param_decls=["--quiet", "-q"], is_flag=True, default=False, expose_value=False,
            callback=_set, help=HELP))
