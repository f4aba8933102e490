"""What keeps a command's process tree reachable: calctl as child subreaper, and
(where the machine allows) a fresh cgroup v2 that ``cgroup.kill`` ends whole."""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calctl.processes.proctable import LINUX

PR_SET_PDEATHSIG = 1



PR_SET_CHILD_SUBREAPER = 36



PR_GET_CHILD_SUBREAPER = 37



CGROUP_NAME = re.compile(r"calctl-[0-9a-f]{16}")



def load_libc() -> Any:
    import ctypes

    return ctypes.CDLL(None, use_errno=True)



@contextlib.contextmanager
def subreaper() -> Iterator[bool]:
    """This process as the reaper of its orphaned descendants, for the block's duration."""
    if not LINUX:
        yield False
        return
    import ctypes

    try:
        libc = load_libc()
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
