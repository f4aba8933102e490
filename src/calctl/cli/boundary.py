"""The one error boundary: every outcome of a command becomes a message and an exit code.

Free of Typer, so that the fast path of :mod:`calctl.cli.quick` shares it; the Typer app
(:mod:`calctl.cli.app`) adds only what Click itself raises (usage errors, ``Exit``,
``Abort``) in front of it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from calctl.errors import CalctlError, ExitCode
from calctl.interrupts import Interrupted


def guarded(run: Callable[[], int], *, as_json: bool, verbose: bool) -> int:
    """``run()``'s exit code, or the code of what it raised (reported on stderr; with
    ``as_json`` also an error document on stdout)."""
    try:
        return _outcome(run, as_json=as_json, verbose=verbose)
    except BrokenPipeError:
        # stdout closed early (calctl … | head), while the command or its error report
        # wrote: exit 1 and write nothing more, as the Typer path does for every other
        # command (Typer's and Click's main catch EPIPE themselves), so both paths agree
        _stdout_gone()
        return ExitCode.FINDINGS


def _stdout_gone() -> None:
    """Point stdout at /dev/null: what is still buffered, and the interpreter's last
    flush, go nowhere instead of raising again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _outcome(run: Callable[[], int], *, as_json: bool, verbose: bool) -> int:
    try:
        return run()
    except CalctlError as exc:
        report_error(exc, as_json=as_json, verbose=verbose)
        print_notes(exc)
        return exc.exit_code
    except (KeyboardInterrupt, EOFError):  # EOFError: Click's Abort, as the Typer path says
        return 130
    except Interrupted as exc:  # SIGTERM/SIGHUP, or a signal during migrate verify's cleanup
        print_notes(exc)  # e.g. a patch rolled back on the way out
        return int(exc.code or 0)
    except BrokenPipeError:
        raise  # not a bug: guarded() ends the command quietly
    except Exception as exc:  # the last resort: a bug, unless a signal caused it
        from calctl import interrupts
        from calctl.errors import InternalError

        if interrupts.arrived:
            # the signal's exception landed where Python replaces it with another (a
            # module being imported, a generator being closed): it is still that signal
            return 128 + interrupts.arrived
        error = InternalError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint="This is a bug in calctl; rerun with -v for the traceback and report it.",
        )
        error.__traceback__ = exc.__traceback__
        report_error(error, as_json=as_json, verbose=verbose)
        return ExitCode.INTERNAL


def report_error(exc: CalctlError, *, as_json: bool, verbose: bool) -> None:
    """Write an error as one sentence + hint on stderr (and a document on stdout with --json)."""
    from calctl.output import err_console, print_json

    if as_json:
        from calctl.documents import ErrorDocument

        try:
            print_json(ErrorDocument(code=exc.code, message=exc.message, hint=exc.hint))
        except BrokenPipeError:  # nobody reads stdout any more: stderr still says it
            _stdout_gone()
    console = err_console()
    if verbose:
        import traceback

        console.print("".join(traceback.format_exception(exc)), markup=False)
    console.print(f"calctl: error: {exc.message}", markup=False, style="bold red")
    if exc.hint:
        console.print(f"hint: {exc.hint}", markup=False)


def print_notes(exc: BaseException) -> None:
    """What the core added to an exception on its way out (PEP 678 notes), on stderr."""
    for note in getattr(exc, "__notes__", ()):
        print(note, file=sys.stderr, flush=True)
