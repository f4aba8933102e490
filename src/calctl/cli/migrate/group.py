"""``calctl migrate``'s Typer sub-app: one module per command.

``order``, ``lint`` and ``rules`` (the analysis, :mod:`calctl.sql.commands`) and
``apply``, ``status`` and ``verify`` (the engine, :mod:`calctl.migrate.commands`):
each module holds one command function; :func:`register` adds them to ``app`` —
only the one the command line names, when it names one, so that a run of one
command neither imports the others' modules nor builds their Click commands.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(help="Order, lint and apply the SQL migrations of a directory.",
                  no_args_is_help=True)

# In the order `calctl migrate --help` lists them.
COMMANDS = ("order", "lint", "rules", "apply", "status", "verify")


def register(sub: str | None = None) -> typer.Typer:
    """Add the command ``sub`` to ``app`` (every command when ``sub`` names none of them:
    help, or an unknown name that Click reports with the list); return ``app``."""
    for name in (sub,) if sub in COMMANDS else COMMANDS:
        module = importlib.import_module(f"calctl.cli.migrate.{name}")
        app.command(name)(getattr(module, name))
    return app
