"""``command``: a command (no shell) exits with ``expect_exit`` (0) in time.

Keys: ``run`` (an argv list, or one string split with shlex), ``expect_exit``,
``cwd`` (relative to the project root). The output's tail goes into the finding,
with the failure location read from it (pytest, Python tracebacks).

The command runs in a new session; when it exits or times out, every process left
of its tree (its session and process group, their descendants) is stopped and
killed — a test suite that leaves a server running does not outlive the check. The
runner makes calctl the subreaper of the whole run, so orphans that left the
session are ended when the run ends (``calctl.guard.runner``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time

from calctl.config.checks import CheckSpec
from calctl.guard.checks._thread import in_thread
from calctl.guard.model import CheckContext, Outcome

TAIL = 16 * 1024  # bytes of output kept for the finding
DRAIN = 0.2  # seconds to read what is left in the pipe once the tree is gone


async def check(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    argv = [str(a) for a in spec.options["run"]]
    cwd = ctx.root / str(spec.options.get("cwd") or ".")
    expect = int(spec.options["expect_exit"])
    started = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=cwd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        return Outcome(False, f"cannot run {argv[0]}: {exc.strerror or exc}",
                       hint="Check the check's run and cwd keys.", data={"argv": argv})
    kept = bytearray()
    reader = asyncio.ensure_future(_read(proc, kept))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), spec.timeout)
    except TimeoutError:
        timed_out = True
    finally:
        # cancelled (the runner's backstop) or done: the tree goes either way
        await asyncio.shield(in_thread(lambda: end_tree(proc.pid)))
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(reader), DRAIN)
        reader.cancel()
        if proc.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 5)
    output = bytes(kept[-TAIL:]).decode("utf-8", "replace")
    duration = round(time.monotonic() - started, 3)
    detail = {"argv": argv, "exit": proc.returncode, "seconds": duration}
    if not timed_out and proc.returncode == expect:
        return Outcome(True, detail=detail)
    from calctl.guard.failures import locate

    where = locate(output, ctx.root)
    if timed_out:
        error = f"{shlex.join(argv)} did not finish within {spec.timeout:g} s"
    else:
        code = proc.returncode
        how = f"was killed by signal {-code}" if code is not None and code < 0 else \
            f"exited {code}"
        error = f"{shlex.join(argv)} {how} (expected {expect})"
        if where.error:
            error += f": {where.error}"
    return Outcome(False, error, file=where.file, line=where.line,
                   traceback=where.traceback,
                   data={"argv": argv, "exit": proc.returncode, "timed_out": timed_out,
                         "output_tail": output[-4000:]}, detail=detail)


async def _read(proc: asyncio.subprocess.Process, kept: bytearray) -> None:
    assert proc.stdout is not None
    while True:
        chunk = await proc.stdout.read(1 << 16)
        if not chunk:
            return
        kept += chunk
        if len(kept) > 2 * TAIL:
            del kept[:-TAIL]


def end_tree(leader: int) -> int:
    """Stop and kill what is left of the tree ``leader`` started (its session, its
    process group, their descendants); how many processes were ended."""
    from calctl.processes.proctable import (
        LINUX,
        Proc,
        ancestors,
        descendants,
        end_processes,
        read_proc,
    )

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, signal.SIGKILL)
    if not LINUX:
        return 0
    first = read_proc(leader)
    protected = ancestors()

    def select(procs: dict[int, Proc], stopped: set[int]) -> set[int]:
        roots = {p.pid for p in procs.values()
                 if leader in (p.sid, p.pgid) and (first is None or p.start >= first.start)}
        return descendants(procs, roots | stopped, lambda p: p.pid > 1
                           and p.pid not in protected)

    # the leader is asyncio's child (reaped by its watcher); the rest are reaped here
    def reap(pid: int) -> None:
        if pid != leader:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)

    return end_processes(select, reap)
