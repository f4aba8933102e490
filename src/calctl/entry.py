"""The console script's entry, and the one owner of the process's life: the garbage
collector, the early analysis child, and how the process ends.

Kept free of imports so that starting is the first thing it does: it pauses the
collector (importing Typer and calctl makes many objects and no garbage worth
collecting; ~5 ms of collections), forks the early analysis (``sql/early.py``), runs
the CLI, then stops an early child nobody used and ends — without freeing the heap when
a command asked for that (:func:`calctl.lifecycle.end_without_teardown`; the commands
below the CLI reach that state through :mod:`calctl.lifecycle`, a foundation module,
never through this one).
"""

from __future__ import annotations

import sys
from typing import NoReturn


def main() -> NoReturn:
    from calctl import lifecycle

    lifecycle.started()  # the collector pauses until the command runs
    from calctl.sql import early

    try:
        early.start(sys.argv[1:])  # `migrate order/lint`: the analysis begins on another core
        from calctl import interrupts

        interrupts.install()  # after the fork: the early child keeps the default handlers
        from calctl.cli import main as cli_main

        if interrupts.arrived:  # its exception was swallowed during the imports
            raise interrupts.Interrupted(interrupts.arrived)
    except KeyboardInterrupt:  # Ctrl-C before the CLI's own error boundary exists
        early.cancel()
        sys.exit(130)
    except SystemExit:  # SIGTERM/SIGHUP (calctl.interrupts.Interrupted): exit 143/129
        early.cancel()
        raise
    try:
        cli_main()  # always raises SystemExit with the command's exit code
    except SystemExit as done:
        early.cancel()  # an early analysis nobody used (replayed output, an error)
        code = done.code
        if interrupts.arrived and code in (0, None):
            code = 128 + interrupts.arrived  # a signal whose exception was swallowed
        if lifecycle.ending_without_teardown():
            lifecycle.exit_now(code)
        raise SystemExit(code) from None
