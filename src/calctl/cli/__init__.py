"""The ``calctl`` command line: :func:`main` runs one inside the one error boundary
(:func:`calctl.cli.boundary.guarded`), imports included. Importing this package imports
no Typer; the Typer app is :mod:`calctl.cli.app`.
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
        from calctl.cli import app

        return app.run(args)

    # stopping the early child and ending the process are calctl.entry's
    sys.exit(guarded(run, as_json=json_requested(args), verbose=verbose_requested(args)))
