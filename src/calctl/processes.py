"""Running a command as a process tree that calctl can end completely (an adapter).

A command calctl runs (a verify command today, a guard ``command`` check later)
may fork daemons, double-fork, or ``setsid`` out of its process group. So:

- Its output goes to a pipe that calctl drains while it waits, keeping only the
  tail in memory: nothing reaches the disk, and a command writing without end
  (``yes``) is only slowed down to calctl's reading (a temporary file grew by
  650 MB a second). calctl never waits for the pipe's end-of-file: a daemon that
  inherits it cannot hold calctl; the command's own exit decides, and once the
  tree is ended what is left in the pipe is read and the pipe closed.
- The command's own exit decides, within the timeout; on timeout the whole tree
  is killed.
- On Linux calctl is a *child subreaper* (``PR_SET_CHILD_SUBREAPER``) while it
  runs the command, so every orphan of the tree, ``setsid`` or not, is
  reparented to calctl and stays reachable through ``/proc`` parent links. When
  the command has exited, what it left running is stopped (``SIGSTOP``, so
  nothing forks during the sweep) and then killed, and calctl reaps it.
- Where the machine lets calctl make a cgroup v2 (root, or a delegated
  subtree), the command starts inside a fresh one and ``cgroup.kill`` ends it
  whole; the cgroup is optional, the subreaper is the portable mechanism.
  ``CALCTL_CGROUP=0`` turns the cgroup off.
- For a calctl killed with ``kill -9`` (the subreaper link dies with it), the
  caller gets a :class:`Tracked` record to save: calctl's own (pid, start time),
  the command's, every process of the tree seen while polling, the cgroup, and
  the boot id. :func:`end_tracked` ends, in a later calctl, only processes that
  match such a record exactly (see its docstring).

A process is identified by (pid, start time in clock ticks since boot, field 22
of ``/proc/<pid>/stat``): a pid alone, or a process group id, is reused.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LINUX = sys.platform == "linux" and os.path.exists("/proc/self/stat")
TAIL_BYTES = 64 * 1024
OUTPUT_CAP = 4 * 1024 * 1024  # past this much output, the tail says how much was dropped
POLL_FIRST = 0.02
POLL_MAX = 0.25
CGROUP_NAME = re.compile(r"calctl-[0-9a-f]{16}")

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_GET_CHILD_SUBREAPER = 37


# ------------------------------------------------------------------ /proc


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


def _owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def _descendants(procs: Mapping[int, Proc], roots: AbstractSet[int],
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


def _end(select: Callable[[dict[int, Proc], set[int]], set[int]],
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


# ------------------------------------------------------------------ Linux knobs


def _libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def _subreaper() -> Iterator[bool]:
    """This process as the reaper of its orphaned descendants, for the block's duration."""
    if not LINUX:
        yield False
        return
    import ctypes

    try:
        libc = _libc()
        before = ctypes.c_int(0)
        libc.prctl(PR_GET_CHILD_SUBREAPER, ctypes.byref(before), 0, 0, 0)
        ok = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        yield False
        return
    try:
        yield ok
    finally:
        if ok and not before.value:
            libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _cgroup_v2_mount() -> Path | None:
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        left, _, right = line.partition(" - ")
        if right.split(" ", 1)[0] == "cgroup2":
            return Path(left.split()[4])
    return None


def _own_cgroup() -> Path | None:
    mount = _cgroup_v2_mount()
    if mount is None:
        return None
    try:
        lines = Path("/proc/self/cgroup").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::/"):
            path = mount / line[4:]
            return path if path.is_dir() else None
    return None


@dataclass
class Cgroup:
    """A cgroup v2 calctl made for one command (``calctl-<16 hex>``)."""

    path: Path

    @staticmethod
    def make() -> Cgroup | None:
        if not LINUX or os.environ.get("CALCTL_CGROUP", "1").lower() in ("0", "off", "no"):
            return None
        parent = _own_cgroup()
        if parent is None:
            return None
        path = parent / f"calctl-{os.urandom(8).hex()}"
        try:
            path.mkdir()
        except OSError:
            return None
        if not (path / "cgroup.kill").exists():  # Linux < 5.14: no whole-group kill
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return Cgroup(path)

    @staticmethod
    def trusted(text: str) -> Cgroup | None:
        """A recorded path, accepted only as a calctl cgroup under the cgroup2 mount."""
        mount = _cgroup_v2_mount()
        path = Path(text)
        if mount is None or not path.is_absolute() or ".." in path.parts \
                or not CGROUP_NAME.fullmatch(path.name):
            return None
        try:
            path.relative_to(mount)
        except ValueError:
            return None
        return Cgroup(path) if (path / "cgroup.kill").is_file() else None

    def joiner(self) -> int | None:
        """An open ``cgroup.procs`` for the child to write its pid into before exec."""
        try:
            return os.open(self.path / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            return None

    def holds(self, pid: int) -> bool:
        try:
            text = Path(f"/proc/{pid}/cgroup").read_text(encoding="utf-8")
        except OSError:
            return False
        return any(line.startswith("0::/") and line.endswith("/" + self.path.name)
                   for line in text.splitlines())

    def pids(self) -> list[int]:
        try:
            text = (self.path / "cgroup.procs").read_text(encoding="ascii")
        except OSError:
            return []
        return [int(x) for x in text.split()]

    def kill(self, wait: float = 3.0) -> int:
        """Kill everything in it, wait until it is empty, remove it; how many were there."""
        count = len(self.pids())
        with contextlib.suppress(OSError):
            (self.path / "cgroup.kill").write_text("1", encoding="ascii")
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if "populated 0" in (self.path / "cgroup.events").read_text(encoding="ascii"):
                    break
            except OSError:
                break
            time.sleep(0.005)
        with contextlib.suppress(OSError):
            self.path.rmdir()
        return count


# ------------------------------------------------------------------ what a run leaves behind


@dataclass
class Tracked:
    """What identifies the processes of one command, for a later calctl to end them.

    Saved by the caller as it changes; it holds no command text, only numbers.
    """

    owner: tuple[int, int]
    boot: str
    leader: tuple[int, int] | None = None
    seen: set[tuple[int, int]] = field(default_factory=set)
    cgroup: str | None = None

    def owner_alive(self) -> bool:
        """The calctl that ran the command is still running (then it ends its own)."""
        if not LINUX or self.boot != boot_id():
            return False
        owner = read_proc(self.owner[0])
        return owner is not None and owner.start == self.owner[1] and owner.alive

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "owner": list(self.owner), "boot": self.boot,
                "leader": list(self.leader) if self.leader else None,
                "seen": sorted([p, s] for p, s in self.seen), "cgroup": self.cgroup}

    @staticmethod
    def from_dict(data: Any) -> Tracked | None:
        """A record read back; None unless every field has the expected shape."""
        def pair(value: Any) -> tuple[int, int] | None:
            if (isinstance(value, list) and len(value) == 2
                    and all(type(v) is int and 0 < v < 2**63 for v in value)):
                return value[0], value[1]
            return None

        if not isinstance(data, dict) or data.get("version") != 1:
            return None
        owner = pair(data.get("owner"))
        leader = pair(data["leader"]) if data.get("leader") is not None else None
        seen_raw = data.get("seen")
        cgroup = data.get("cgroup")
        if owner is None or not isinstance(data.get("boot"), str) \
                or (data.get("leader") is not None and leader is None) \
                or not isinstance(seen_raw, list) or len(seen_raw) > 100_000 \
                or not (cgroup is None or isinstance(cgroup, str)):
            return None
        seen = {pair(x) for x in seen_raw}
        if None in seen:
            return None
        return Tracked(owner, data["boot"], leader,
                       {p for p in seen if p is not None}, cgroup)


def end_tracked(tracked: Tracked) -> int:
    """End what a dead calctl's command left running; how many processes were ended.

    The record is state read back, so it only ever narrows what is signalled:
    a process is ended only when it is alive now, belongs to this user, started
    no earlier than the command, is not pid 1, this process or one of its
    ancestors, and either matches a recorded (pid, start time) exactly, or sits
    in the command's recorded session or process group (only while that id has
    not been reused by a newer leader), or descends from such a process through
    processes that pass the same checks. A record from another boot, or whose owner is
    still running, ends nothing. A recorded cgroup is killed whole (it was made
    by calctl for this command alone).
    """
    if not LINUX or tracked.boot != boot_id() or tracked.owner_alive():
        return 0
    ended = 0
    if tracked.cgroup:
        group = Cgroup.trusted(tracked.cgroup)
        if group is not None:
            ended += group.kill()
    exact = set(tracked.seen) | ({tracked.leader} if tracked.leader else set())
    if not exact:
        return ended
    # nothing the command started can be older than the command itself
    floor = tracked.leader[1] if tracked.leader else min(start for _, start in exact)
    uid = os.geteuid()
    protected = ancestors()
    session = tracked.leader
    if session is not None:
        holder = read_proc(session[0])
        if holder is not None and holder.start != session[1]:
            session = None  # the id now belongs to a newer process: do not trust it

    def allowed(p: Proc) -> bool:
        return (p.pid > 1 and p.pid not in protected and p.start >= floor
                and _owner(p.pid) == uid)

    def select(procs: dict[int, Proc], stopped: set[int]) -> set[int]:
        roots = {p.pid for p in procs.values() if (p.pid, p.start) in exact}
        if session is not None:
            roots |= {p.pid for p in procs.values()
                      if session[0] in (p.sid, p.pgid) and p.start >= session[1]}
        return _descendants(procs, roots | stopped, allowed)

    return ended + _end(select)


# ------------------------------------------------------------------ running a command


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
        prctl = _libc().prctl
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
    with contextlib.ExitStack() as cleanup, _subreaper():
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
    return _descendants(procs, roots | extra, allowed)


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

        ended += _end(select, reap)
    proc.wait()
    return ended
