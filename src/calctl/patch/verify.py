"""Running the verification commands: argv from shlex (never a shell), a timeout each,
the tail of their output kept.

A command runs in its own session so that a timeout kills everything it
started, not just the first process.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from calctl.documents import VerifyRun
from calctl.errors import UsageError

TAIL_LINES = 60
TAIL_CHARS = 8000


def parse_commands(commands: Sequence[str]) -> list[list[str]]:
    """Each command line split like a POSIX shell would (quotes honoured), without a shell."""
    parsed = []
    for command in commands:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise UsageError(f"verify command {command!r} cannot be parsed: {exc}",
                             hint="Check its quotes; commands are split like a shell would, "
                             "but no shell runs them.", code="verify-command") from None
        if not argv:
            raise UsageError("a verify command is empty", code="verify-command")
        parsed.append(argv)
    return parsed


def tail(text: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    kept = "\n".join(text.rstrip("\n").split("\n")[-lines:])
    return kept[-chars:]


def _die_with_parent() -> None:
    """In the child: ask Linux to kill it when calctl dies (kill -9 included), so that no
    verification keeps running against files a recovery is about to restore."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_one(argv: list[str], *, cwd: Path, timeout: float,
            env: Mapping[str, str] | None = None) -> VerifyRun:
    shown = shlex.join(argv)
    start = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True, env=dict(env) if env else None,
                                preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    except OSError as exc:
        return VerifyRun(shown, 127, False, time.monotonic() - start,
                         f"cannot run {argv[0]}: {exc.strerror or exc}")
    timed_out = False
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    text = out.decode("utf-8", "replace")
    if timed_out:
        text += f"\n[calctl: killed after {timeout:g} s timeout]"
    return VerifyRun(shown, None if timed_out else proc.returncode, timed_out,
                     round(time.monotonic() - start, 3), tail(text))


def run_all(commands: Sequence[list[str]], *, cwd: Path, timeout: float,
            env: Mapping[str, str] | None = None) -> list[VerifyRun]:
    """Run the commands in order, stopping at the first that fails or times out."""
    runs = []
    for argv in commands:
        run = run_one(argv, cwd=cwd, timeout=timeout, env=env)
        runs.append(run)
        if not passed(run):
            break
    return runs


def passed(run: VerifyRun) -> bool:
    return not run.timed_out and run.returncode == 0
