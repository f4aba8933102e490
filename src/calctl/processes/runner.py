"""Running one command: output drained from a pipe and capped, the exit decides,
the timeout kills the tree, and whatever it left behind is ended."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from calctl.processes.containment import PR_SET_PDEATHSIG, Cgroup, load_libc, subreaper
from calctl.processes.proctable import (
    LINUX,
    Proc,
    ancestors,
    boot_id,
    descendants,
    end_processes,
    read_proc,
    scan,
)
from calctl.processes.tracked import Tracked

TAIL_BYTES = 64 * 1024



OUTPUT_CAP = 4 * 1024 * 1024  # past this much output, the tail says how much was dropped



POLL_FIRST = 0.02



POLL_MAX = 0.25



@dataclass(frozen=True)
class Completed:
    """How a command ended: exit code (None when killed for the timeout), output tail."""

    returncode: int | None
    timed_out: bool
    duration: float
    output: bytes
    leftovers: int
    dropped: int = 0  # bytes of output not kept, once there was more than OUTPUT_CAP



def _preexec(cgroup_fd: int | None) -> Callable[[], None]:
    try:  # looked up in the parent: loading libc in the forked child costs ~10 ms
        prctl = load_libc().prctl
    except (OSError, AttributeError):
        prctl = None

    def child() -> None:
        # in the child, before exec: join the cgroup (so nothing it starts is outside
        # it), and die with calctl even by kill -9
        if cgroup_fd is not None:
            with contextlib.suppress(OSError):
                os.write(cgroup_fd, str(os.getpid()).encode())
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    return child



class Output:
    """The read end of the command's output pipe: what it holds is read as it comes,
    and only the last ``tail_bytes`` are kept."""

    def __init__(self, tail_bytes: int) -> None:
        self.read_fd, self.write_fd = os.pipe()  # both close-on-exec
        os.set_blocking(self.read_fd, False)
        self.tail_bytes = tail_bytes
        self.kept = bytearray()
        self.total = 0
        self.eof = False

    def drain(self, limit: int = 1 << 20) -> None:
        """Read what the pipe holds now, without waiting, up to ``limit`` bytes: a writer
        faster than calctl must not keep it here past the deadline."""
        end = self.total + limit
        while not self.eof and self.total < end:
            try:
                chunk = os.read(self.read_fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.eof = True
                return
            self.total += len(chunk)
            self.kept += chunk
            if len(self.kept) > 2 * self.tail_bytes:
                del self.kept[:-self.tail_bytes]

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.write_fd = -1

    def close_writer(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.write_fd)
        self.write_fd = -1

    def tail(self) -> bytes:
        return bytes(self.kept[-self.tail_bytes:])



def run(argv: Sequence[str], *, cwd: Path, timeout: float,
        env: Mapping[str, str] | None = None, tail_bytes: int = TAIL_BYTES,
        on_track: Callable[[Tracked], None] | None = None,
        output_cap: int = OUTPUT_CAP) -> Completed:
    """Run ``argv`` (no shell) until it exits or ``timeout`` passes; end all it started.

    ``on_track`` gets the :class:`Tracked` record before the command starts and
    each time it learns of more processes; raising from it aborts the run.
    An ``argv`` that cannot be started raises OSError.
    """
    started = time.monotonic()
    me = read_proc(os.getpid()) if LINUX else None
    tracked = Tracked(owner=(os.getpid(), me.start if me else 0), boot=boot_id())
    cgroup = Cgroup.make()
    cgroup_fd = cgroup.joiner() if cgroup else None
    if cgroup is not None and cgroup_fd is None:
        cgroup.kill()
        cgroup = None
    tracked.cgroup = str(cgroup.path) if cgroup else None
    if on_track is not None and LINUX:
        on_track(tracked)
    timed_out = False
    leftovers = 0
    output = Output(tail_bytes)
    with contextlib.ExitStack() as cleanup, subreaper():
        cleanup.callback(output.close)
        try:
            proc = subprocess.Popen(
                list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=output.write_fd,
                stderr=subprocess.STDOUT, start_new_session=True,
                env=dict(env) if env is not None else None,
                preexec_fn=_preexec(cgroup_fd) if LINUX else None)
        except BaseException:
            if cgroup is not None:
                cgroup.kill()
            raise
        finally:
            if cgroup_fd is not None:
                os.close(cgroup_fd)
            output.close_writer()
        try:
            if cgroup is not None and not cgroup.holds(proc.pid):
                cgroup.kill()
                cgroup, tracked.cgroup = None, None  # joining failed: poll instead
            # polled with a cgroup too: a process that leaves the cgroup is still
            # recorded for a later calctl to end (see _end_run)
            timed_out = _wait(proc, tracked, started + timeout, on_track, output,
                              poll=LINUX)
        finally:
            leftovers = _end_run(proc, tracked, cgroup)
        output.drain()  # what the ended tree left in the pipe; never wait for its end
    tail = output.tail()
    dropped = output.total - len(tail) if output.total > output_cap else 0
    return Completed(None if timed_out else proc.returncode, timed_out,
                     round(time.monotonic() - started, 3), tail, leftovers, dropped)



def _wait(proc: subprocess.Popen[bytes], tracked: Tracked, deadline: float,
          on_track: Callable[[Tracked], None] | None, output: Output, *, poll: bool) -> bool:
    """Wait for the command's own exit, draining its output meanwhile; True when the
    deadline came first."""
    leader = read_proc(proc.pid) if LINUX else None
    if leader is not None:
        tracked.leader = (leader.pid, leader.start)
        tracked.seen.add(tracked.leader)
        if on_track is not None:
            on_track(tracked)
    interval = POLL_FIRST
    next_scan = time.monotonic() + interval
    with _exit_watch(proc) as watch:
        poller = select.poll()
        poller.register(output.read_fd, select.POLLIN)
        if watch is not None:
            poller.register(watch, select.POLLIN)  # readable once the process exits
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            wake = min(next_scan - time.monotonic(), remaining)
            # without a pidfd, the exit is only noticed by polling: often
            poller.poll(max(0, int(wake * 1000)) if watch is not None
                        else min(max(0, int(wake * 1000)), 10))
            output.drain()
            if output.eof:
                with contextlib.suppress(KeyError):
                    poller.unregister(output.read_fd)  # else: woken without end
            if proc.poll() is not None:
                return False
            if time.monotonic() < next_scan:
                continue
            interval = min(interval * 1.5, POLL_MAX)
            next_scan = time.monotonic() + interval
            if poll and tracked.leader is not None:
                _note_tree(tracked, on_track)



@contextlib.contextmanager
def _exit_watch(proc: subprocess.Popen[bytes]) -> Iterator[int | None]:
    """A pidfd of the command (Linux 5.3+), readable once it has exited."""
    fd = None
    with contextlib.suppress(OSError, AttributeError):
        fd = os.pidfd_open(proc.pid)
    try:
        yield fd
    finally:
        if fd is not None:
            os.close(fd)



def _note_tree(tracked: Tracked, on_track: Callable[[Tracked], None] | None) -> None:
    """Record the processes of the tree seen now, for a later calctl to end."""
    procs = scan()
    now = {(procs[p].pid, procs[p].start) for p in _tree(procs, tracked)}
    if not now <= tracked.seen:
        tracked.seen |= now
        if on_track is not None:
            on_track(tracked)



def _tree(procs: Mapping[int, Proc], tracked: Tracked,
          extra: AbstractSet[int] = frozenset()) -> set[int]:
    """The command's processes now: its descendants, and orphans reparented to us
    (we are their subreaper) that started no earlier than the command."""
    if tracked.leader is None:
        return set()
    lead, first = tracked.leader
    protected = ancestors()
    me = os.getpid()
    holder = procs.get(lead)
    session = holder is None or holder.start == first  # else the id was reused since

    def allowed(p: Proc) -> bool:
        return p.pid > 1 and p.start >= first and (p.pid == lead or p.pid not in protected)

    roots = {
        p.pid for p in procs.values()
        if (p.ppid == me and p.start >= first) or (p.pid, p.start) in tracked.seen
        or (session and lead in (p.sid, p.pgid) and p.start >= first)}
    return descendants(procs, roots | extra, allowed)



def _end_run(proc: subprocess.Popen[bytes], tracked: Tracked, cgroup: Cgroup | None) -> int:
    """Kill whatever the command started that is still running, and reap it."""
    ended = 0
    if proc.poll() is None or not LINUX:
        # without /proc the process group is all calctl can name; its id stays the
        # leader's pid while any member lives
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
            ended += 1
    if cgroup is not None:
        ended += cgroup.kill()
    if LINUX:
        # also with a cgroup: a process of the tree may have written its pid into
        # another cgroup's cgroup.procs (root can), and cgroup.kill misses it; as our
        # orphan (we are the subreaper) or descendant it is still found here
        def select(procs: dict[int, Proc], stopped: set[int]) -> set[int]:
            return _tree(procs, tracked, stopped)

        def reap(pid: int) -> None:
            if pid != proc.pid:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)

        ended += end_processes(select, reap)
    proc.wait()
    return ended
