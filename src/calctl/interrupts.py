"""Terminating signals: unwind (so cleanup runs), then exit 128 + the signal's number.

One rule for the whole CLI: SIGINT, SIGTERM and SIGHUP each raise an exception where
the main thread is, every ``finally`` on the way out runs, and calctl exits 130, 143
or 129 (the shell's convention for "ended by signal N"). Python already does this for
SIGINT (KeyboardInterrupt, 130); :func:`install` adds SIGTERM and SIGHUP. A signal the
parent set to be ignored (``nohup``, a background job) stays ignored.

:class:`Interrupted` is a SystemExit, not a KeyboardInterrupt: Typer turns any
KeyboardInterrupt into exit 130, which would lose which signal it was. psycopg treats
both alike (it cancels the running query), and so do ``subprocess.run`` and every
``except BaseException`` cleanup.

Imported by the console script before anything else: keep it to ``signal``.
"""

from __future__ import annotations

import signal

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(SystemExit):
    """Signal ``signum`` arrived; unwinding ends the process with exit ``128 + signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


# The first signal that arrived. An exception raised by a handler is lost when the signal
# lands in code that swallows exceptions (a weakref callback of the import system prints
# "Exception ignored in …" and goes on): the console script checks this after the
# imports and at the end, so a signal is never forgotten.
arrived: int | None = None


def _raise(signum: int, frame: object) -> None:
    global arrived
    arrived = arrived or signum
    raise Interrupted(signum)


def _interrupt(signum: int, frame: object) -> None:
    global arrived
    arrived = arrived or signum
    raise KeyboardInterrupt


def install() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C (left alone where they are ignored); every
    one of the three is remembered in :data:`arrived`."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise)

