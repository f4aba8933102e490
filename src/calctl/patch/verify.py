"""Running the verification commands: argv from shlex (never a shell), a timeout each,
the tail of their output kept.

A command runs as a process tree calctl ends completely (:mod:`calctl.processes`):
its own exit decides, and daemons it leaves behind are killed, on time-out too.
While it runs, the (pid, start time) of its processes are kept in a sealed file
in the state directory; a later calctl (``patch recover``) ends them when this
one was killed before it could (:func:`reap_leftovers`).

A command line may carry a credential (``psql postgresql://u:pw@h/db``): every
command calctl shows, emits or stores goes through :func:`shown` first, and its
output through :func:`calctl.redact.mask_secrets` given the command's words.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from calctl import processes, trust
from calctl.documents import VerifyRun
from calctl.errors import UsageError
from calctl.output import plural
from calctl.redact import mask_dsn, mask_secrets
from calctl.state import StateDir

TAIL_LINES = 60
TAIL_CHARS = 8000


def parse_commands(commands: Sequence[str]) -> list[list[str]]:
    """Each command line split like a POSIX shell would (quotes honoured), without a shell."""
    parsed = []
    for command in commands:
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            raise UsageError(f"verify command {mask_dsn(command)!r} cannot be parsed: {exc}",
                             hint="Check its quotes; commands are split like a shell would, "
                             "but no shell runs them.", code="verify-command") from None
        if not argv:
            raise UsageError("a verify command is empty", code="verify-command")
        parsed.append(argv)
    return parsed


def shown(argv: Sequence[str]) -> str:
    """A command line as calctl shows, emits and stores it: passwords masked."""
    return mask_dsn(shlex.join(argv))


def tail(text: str, lines: int = TAIL_LINES, chars: int = TAIL_CHARS) -> str:
    kept = "\n".join(text.rstrip("\n").split("\n")[-lines:])
    return kept[-chars:]


def resolve(argv: list[str]) -> list[str]:
    """A leading ``calctl`` means this installation, whether or not it is on PATH
    (an unactivated venv, CI running ``.venv/bin/pytest``). ``-P``: the command runs in
    the project root, and a ``calctl/`` the repository ships must not be imported instead."""
    if argv and argv[0] == "calctl":
        return [sys.executable, "-P", "-m", "calctl", *argv[1:]]
    return argv


def run_one(argv: list[str], *, cwd: Path, timeout: float,
            env: Mapping[str, str] | None = None,
            on_track: Callable[[processes.Tracked], None] | None = None) -> VerifyRun:
    """Run one command; its own exit within ``timeout`` decides, and whatever it
    started (daemons, ``setsid`` escapees) is ended when it returns."""
    line = shown(argv)
    start = time.monotonic()
    try:
        done = processes.run(resolve(argv), cwd=cwd, timeout=timeout, env=env,
                             tail_bytes=TAIL_CHARS * 4, on_track=on_track)
    except OSError as exc:
        return VerifyRun(line, 127, False, round(time.monotonic() - start, 3),
                         f"cannot run {mask_dsn(argv[0])}: {exc.strerror or exc}")
    text = done.output.decode("utf-8", "replace")
    if done.timed_out:
        text += f"\n[calctl: killed after {timeout:g} s timeout, with everything it started]"
    elif done.leftovers:
        ended = plural(done.leftovers, "process", "processes")
        text += f"\n[calctl: the command exited; ended {ended} it left running]"
    kept = tail(text)
    if done.dropped:
        kept = f"[… at least {done.dropped} bytes of output dropped …]\n{kept}"
    # a program may echo its arguments (a URL, or the pieces its parser cut it into)
    return VerifyRun(line, done.returncode, done.timed_out, done.duration,
                     mask_secrets(kept, *argv))


def run_all(commands: Sequence[list[str]], *, cwd: Path, timeout: float,
            env: Mapping[str, str] | None = None, state: StateDir | None = None,
            patch_id: str = "") -> list[VerifyRun]:
    """Run the commands in order, stopping at the first that fails or times out.

    With ``state``, what identifies each command's processes is kept in
    ``locks/verify-<patch id>.procs`` while it runs, so that the next calctl can
    end them if this one is killed (:func:`reap_leftovers`).
    """
    record = _procs_file(state, patch_id) if state is not None and patch_id else None
    runs = []
    try:
        for argv in commands:
            run = run_one(argv, cwd=cwd, timeout=timeout, env=env,
                          on_track=(lambda t: _save(record, t)) if record else None)
            runs.append(run)
            if not passed(run):
                break
    finally:
        if record is not None:
            with contextlib.suppress(OSError):
                record.unlink()
    return runs


def passed(run: VerifyRun) -> bool:
    return not run.timed_out and run.returncode == 0


PROCS_NAME = re.compile(r"verify-[0-9a-f]{1,64}\.procs")


def _procs_file(state: StateDir, patch_id: str) -> Path | None:
    name = f"verify-{patch_id}.procs"
    return state.locks / name if PROCS_NAME.fullmatch(name) else None


def _save(path: Path, tracked: processes.Tracked) -> None:
    """Replace the record atomically; without a usable key nothing is kept (an unsealed
    record would be ignored anyway). Best effort: verification goes on without it."""
    sealed = trust.seal(json.dumps(tracked.to_dict()).encode(), "procs")
    if sealed is None:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, sealed)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def reap_leftovers(state: StateDir) -> int:
    """End the processes of verify commands whose calctl died (kill -9, power cut of
    the parent only); how many were ended. For ``patch recover``, under the patch lock.

    A record is state read back: one that is not sealed under this user's key, or
    not of the expected shape, is left alone and ends nothing; an authentic one
    only narrows what is signalled (:func:`calctl.processes.end_tracked`) and is
    removed once handled.
    """
    try:
        names = sorted(os.listdir(state.locks))
    except OSError:
        return 0
    ended = 0
    for name in names:
        if name.startswith(".verify-") and name.endswith(".tmp"):
            with contextlib.suppress(OSError):  # a record half-written when calctl died
                (state.locks / name).unlink()
        if not PROCS_NAME.fullmatch(name):
            continue
        path = state.locks / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                blob = os.read(fd, 4 * 1024 * 1024)
            finally:
                os.close(fd)
        except OSError:
            continue
        data = trust.unseal(blob, "procs")
        if data is None:
            continue
        try:
            tracked = processes.Tracked.from_dict(json.loads(data))
        except ValueError:
            tracked = None
        if tracked is None or tracked.owner_alive():
            continue
        ended += processes.end_tracked(tracked)
        with contextlib.suppress(OSError):
            path.unlink()
    return ended
