"""Cache writes in a forked child, so the parent goes on (resolving, rendering) meanwhile.

Only cache files are written this way: each write is atomic (temporary file, then
rename), so a child that fails leaves the previous cache and costs only time.
:meth:`Writer.wait`, or :func:`wait_all` — called before a command's output is
printed, and at exit — makes sure the writes have finished, so the next run finds them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from collections.abc import Callable

_pending: set[int] = set()


class Writer:
    """A write started by :func:`in_background` (``pid`` 0: it already ran here)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def wait(self) -> None:
        if self.pid and self.pid in _pending:
            _pending.discard(self.pid)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)


def in_background(write: Callable[[], None], worth_it: bool = True) -> Writer:
    """Run ``write`` in a forked child when ``worth_it`` (a fork costs a few
    milliseconds), else — or when fork is unavailable — right here."""
    pid = -1
    if worth_it and hasattr(os, "fork"):
        try:
            pid = os.fork()
        except OSError:
            pid = -1
    if pid < 0:
        write()
        return Writer(0)
    if pid == 0:  # the child: never returns
        status = 1
        try:
            write()
            status = 0
        finally:
            os._exit(status)
    if not _pending:
        atexit.register(wait_all)  # every caller, even one that forgets, waits at exit
    _pending.add(pid)
    return Writer(pid)


def wait_all() -> None:
    """Wait for every write started by :func:`in_background`."""
    for pid in list(_pending):
        Writer(pid).wait()
