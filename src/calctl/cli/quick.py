"""``migrate order`` without Typer: the fast path of the plain lines a CI job writes.

Importing Typer (and building its commands) costs ~40 ms of CPU, about a tenth of a
cold ``migrate order`` of 2,000 files on one core — beside a busy process, the whole
margin to squawk. :func:`calctl.argv.order_line` parses the lines it is sure of; this
module does what Click would do with them (the root callback's context, ``-q`` after
the command, the context closed at the end) and runs the same command body
(:func:`calctl.cli.migrate._order.run_order`) inside the same error boundary
(:func:`calctl.cli.boundary.guarded`, around both paths in :func:`calctl.cli.main`). Any other
line returns None, and :mod:`calctl.cli.app` parses it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Click's shell completion (Typer's --install-completion) is asked through this variable
COMPLETION_VARIABLE = "_CALCTL_COMPLETE"


def run(args: list[str]) -> int | None:
    """The exit code of ``args`` run here, or None when Click must parse them. What the
    command raises propagates to the caller's :func:`calctl.cli.boundary.guarded`."""
    from calctl.argv import order_line

    if COMPLETION_VARIABLE in os.environ:  # Click answers a completion request instead
        return None
    line = order_line(args)
    if line is None or not _readable(line):
        return None
    return _order(line)


def _readable(line: dict[str, Any]) -> bool:
    """False when a path given exists but cannot be read: Click's Path parameters refuse
    it as a usage error, in its own words; let it."""
    given = [line["--config"], line["--state-dir"], *line["paths"]]
    return all(os.access(p, os.R_OK) or not os.path.exists(p) for p in given if p is not None)


def _order(line: dict[str, Any]) -> int:
    from calctl.cli._context import root_context
    from calctl.cli.migrate._formats import OutputFormat
    from calctl.cli.migrate._order import run_order
    from calctl.lifecycle import imports_done

    def path(value: str | None) -> Path | None:
        return Path(value) if value is not None else None  # as Click's Path gives it

    context = root_context(config=path(line["--config"]), state_dir=path(line["--state-dir"]),
                           store_url=line["--store-url"], verbose=line["verbose"],
                           quiet=line["quiet"] or line["order_quiet"],  # -q after `order` too
                           trust_config=line["trust_config"], json=line["json"])
    imports_done()  # the console script paused the collector for the imports
    try:
        return run_order(context, [Path(p) for p in line["paths"]] or None,
                         check=line["check"],
                         fmt=OutputFormat.json if line["json"] or line["order_json"]
                         else OutputFormat.text,
                         glob=line["--glob"] or None, exclude=line["--exclude"] or None,
                         define=line["--define"] or None,
                         search_path=line["--search-path"],
                         assume_exists=line["--assume-exists"] or None)
    finally:
        context.close()
