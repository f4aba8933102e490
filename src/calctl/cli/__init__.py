"""The ``calctl`` command line: :func:`main` runs one.

A ``migrate order`` line in the plain form a CI job writes runs without Typer
(:mod:`calctl.cli.quick`: importing Typer costs about a tenth of a cold 2,000-file run on
one core); every other line, and any doubt, goes to the Typer app
(:mod:`calctl.cli.app`). Importing this package imports neither. Both run inside the one
error boundary (:func:`calctl.cli.boundary.guarded`), imports included: a Ctrl-C while
Typer loads is an interrupted command (exit 130), not a traceback.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from calctl.argv import json_requested, verbose_requested
from calctl.cli.boundary import guarded


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the console script: run the command line, exit with its code."""
    args = list(sys.argv[1:] if argv is None else argv)

    def run() -> int:
        from calctl.cli import quick

        code = quick.run(args)
        if code is None:
            from calctl.cli import app

            code = app.run(args)
        return code

    # stopping the early child and ending the process are calctl.entry's
    sys.exit(guarded(run, as_json=json_requested(args), verbose=verbose_requested(args)))
