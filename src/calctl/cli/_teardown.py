"""The end of a command: stop an early analysis nobody used, and end the process without
freeing a large heap (see :func:`skip_teardown`).

Its own module so that a command (``cli/migrate/order.py``) can ask for it without
importing ``calctl.cli``, which imports the commands.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import NoReturn


def finish(code: int, argv: list[str] | None) -> int:
    """Stop an early analysis the command left running; end at once when allowed."""
    global _skip_teardown
    early = sys.modules.get("calctl.sql.early")
    if early is not None:
        early.cancel()  # an early analysis nobody used (replayed output, an error)
    if argv is None and _skip_teardown:
        _exit_now(code)
    _skip_teardown = False
    _kept.clear()
    gc.enable()  # paused by skip_teardown()
    return code


# Set by commands that leave a large heap behind (a whole directory's analysis: about a
# million small objects). Tearing that down object by object at interpreter exit takes
# longer than printing the result, and nothing in it needs finalising.
_skip_teardown = False
_kept: list[object] = []


def skip_teardown() -> list[object]:
    """Let the console script end the process without freeing the heap (see ``main``).

    Returns a list that lives until then: a command puts its large results there instead
    of letting them be freed when its functions return (~10 ms for a 2,000-file
    analysis). The garbage collector stays paused until the end: its first pass would
    walk every object kept (~15 ms). Called in-process (tests), the list is emptied and
    the collector resumed when the command ends."""
    global _skip_teardown
    _skip_teardown = True
    gc.disable()
    return _kept


def _exit_now(code: int) -> NoReturn:
    """Flush, run atexit handlers, and end the process at once. Only when no other thread
    runs: a thread might still be writing something."""
    threading = sys.modules.get("threading")  # not imported: no thread was started
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)
    import atexit

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
