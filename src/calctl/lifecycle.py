"""The process's life, as the console script (:mod:`calctl.entry`) runs it: the garbage
collector and how the process ends.

A foundation module (it imports nothing of calctl's) so that the commands deep below the
CLI can ask for what they need — "pause the collector", "keep this until the end", "end
without freeing the heap" — while only :mod:`calctl.entry` acts on it: it pauses the
collector for the imports, stops the early child and ends the process.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextlib import AbstractContextManager

_console = False        # running as the console script (not in-process, as tests do)
_no_teardown = False    # end with os._exit after flushing (see end_without_teardown)
_held: list[object] = []


def started() -> None:
    """Called by the console script first: the collector pauses until the command runs
    (importing Typer and calctl makes many objects and no garbage worth collecting)."""
    global _console
    import gc

    gc.disable()
    _console = True


def imports_done() -> None:
    """The command is about to run: the collector resumes (paused by :func:`started`; a
    no-op in-process)."""
    if _console and not _no_teardown:
        import gc

        gc.enable()


def paused_gc() -> AbstractContextManager[None]:
    """A context that pauses the cyclic garbage collector: the analysis builds hundreds
    of thousands of small tuples and no cycles, and collections triggered by them cost up
    to half the run on large directories. Reference counting still frees everything."""
    import contextlib
    import gc

    @contextlib.contextmanager
    def paused() -> Iterator[None]:
        was = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was and not _no_teardown:
                gc.enable()

    return paused()


def end_without_teardown() -> None:
    """The command will leave a large heap (a whole directory's analysis: about a million
    small objects) and print its result last: the console script then ends without
    freeing it — tearing it down object by object takes longer than printing — and the
    collector stays paused until then (its first pass would walk everything kept).
    In-process (tests) this does nothing."""
    global _no_teardown
    if _console:
        import gc

        _no_teardown = True
        gc.disable()


def ending_without_teardown() -> bool:
    return _no_teardown


def hold(value: object) -> None:
    """Keep ``value`` until the process ends, when :func:`end_without_teardown` was asked
    for (freeing a 2,000-file analysis on return costs ~10 ms); else leave it be."""
    if _no_teardown:
        _held.append(value)


def exit_now(code: object) -> NoReturn:
    """Flush, run atexit handlers, and end the process at once. Only when no other thread
    runs: a thread might still be writing something."""
    threading = sys.modules.get("threading")  # not imported: no thread was started
    if threading is not None and threading.active_count() > 1:
        raise SystemExit(code)
    import atexit
    import contextlib
    import os

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)
