"""The console script's entry: start what can start before the command line is parsed,
then run the CLI. Kept free of imports so that starting is the first thing it does."""

from __future__ import annotations

import sys
from typing import NoReturn


def main() -> NoReturn:
    import gc

    # Importing Typer and calctl makes many objects and no garbage worth collecting;
    # collections during it cost ~5 ms. cli.main() turns the collector back on before
    # the command runs.
    gc.disable()
    from calctl.sql import early

    try:
        early.start(sys.argv[1:])  # `migrate order/lint`: the analysis begins on another core
        from calctl import interrupts

        interrupts.install()  # after the fork: the early child keeps the default handlers
        from calctl.cli import main as cli_main
    except KeyboardInterrupt:  # Ctrl-C before the CLI's own error boundary exists
        early.cancel()
        sys.exit(130)
    except SystemExit:  # SIGTERM/SIGHUP (calctl.interrupts.Interrupted): exit 143/129
        early.cancel()
        raise
    cli_main()
