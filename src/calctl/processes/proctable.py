"""The process table as calctl reads it from ``/proc``: who is who (pid + start time),
who descends from whom, and signalling or ending exactly the processes meant."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

LINUX = sys.platform == "linux" and os.path.exists("/proc/self/stat")



@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    pgid: int
    sid: int
    start: int
    state: str

    @property
    def alive(self) -> bool:
        return self.state not in ("Z", "X")



def read_proc(pid: int) -> Proc | None:
    """One process as /proc shows it now; None when there is none."""
    try:
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return None
    try:
        raw = os.read(fd, 4096)
    except OSError:
        return None
    finally:
        os.close(fd)
    # comm (field 2) may hold spaces and parentheses: split after the last ')'
    rest = raw[raw.rfind(b")") + 2:].split()
    try:
        return Proc(pid, int(rest[1]), int(rest[2]), int(rest[3]), int(rest[19]),
                    rest[0].decode("ascii", "replace"))
    except (IndexError, ValueError):
        return None



def scan() -> dict[int, Proc]:
    """Every process visible in /proc."""
    procs = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc"):
            if name.isdigit():
                proc = read_proc(int(name))
                if proc is not None:
                    procs[proc.pid] = proc
    return procs



def boot_id() -> str:
    """Start times count from boot: a record made before a reboot names nobody now."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""



def ancestors(pid: int | None = None) -> set[int]:
    """``pid`` (default: this process) and every process above it."""
    found = set()
    current = os.getpid() if pid is None else pid
    while current > 0 and current not in found:
        found.add(current)
        proc = read_proc(current)
        if proc is None:
            break
        current = proc.ppid
    return found



def owner_uid(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None



def descendants(procs: Mapping[int, Proc], roots: AbstractSet[int],
                 allowed: Callable[[Proc], bool]) -> set[int]:
    """``roots`` and their descendants, walking only through ``allowed`` processes: a
    process that may not be signalled is neither picked nor descended from (pid 1 is
    everyone's ancestor)."""
    children: dict[int, list[int]] = {}
    for proc in procs.values():
        children.setdefault(proc.ppid, []).append(proc.pid)
    found: set[int] = set()
    todo = [r for r in roots if r in procs]
    while todo:
        pid = todo.pop()
        if pid in found or not allowed(procs[pid]):
            continue
        found.add(pid)
        todo.extend(c for c in children.get(pid, ()) if c in procs)
    return found



def _signal(pid: int, start: int, sig: int) -> bool:
    """Signal ``pid`` only while it is still the process that started at ``start``.

    Through a pidfd where the kernel has them, so the check and the signal name
    the same process even if the pid is reused in between.
    """
    if pid <= 1 or pid == os.getpid():
        return False
    fd = None
    with contextlib.suppress(OSError, AttributeError):
        fd = os.pidfd_open(pid)
    try:
        proc = read_proc(pid)
        if proc is None or proc.start != start:
            return False
        if fd is not None:
            signal.pidfd_send_signal(fd, sig)
        else:
            os.kill(pid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False
    finally:
        if fd is not None:
            os.close(fd)



def end_processes(select: Callable[[dict[int, Proc], set[int]], set[int]],
         reap: Callable[[int], None] | None = None, *, wait: float = 3.0) -> int:
    """Stop, then kill, every live process ``select`` names; how many were ended.

    ``select(procs, stopped)`` picks pids from a fresh scan; it is asked again
    until it names nothing new, so the children a process forked before it was
    stopped are found too. Stopped processes cannot fork, so the sweep ends.
    """
    stopped: dict[int, int] = {}
    for _ in range(100):
        procs = scan()
        new = [procs[pid] for pid in select(procs, set(stopped))
               if pid in procs and procs[pid].alive and pid not in stopped]
        if not new:
            break
        for proc in new:
            if _signal(proc.pid, proc.start, signal.SIGSTOP):
                stopped[proc.pid] = proc.start
    for pid, start in stopped.items():
        _signal(pid, start, signal.SIGKILL)
    deadline = time.monotonic() + wait
    pending = dict(stopped)
    while pending and time.monotonic() < deadline:
        for pid, start in list(pending.items()):
            now = read_proc(pid)
            if now is not None and now.start == start and now.alive:
                continue
            if now is not None and now.start == start and reap is not None:
                reap(pid)
            del pending[pid]
        if pending:
            time.sleep(0.005)
    return len(stopped)
