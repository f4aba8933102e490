"""Whose file is it: the ownership and permission checks that decide whether calctl
may act on what a config file (or a marker in a shared directory) says."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def is_shared_scratch(directory: str | Path) -> bool:
    """World-writable and sticky, like /tmp: anyone may leave a file there."""
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWOTH and mode & stat.S_ISVTX)



def trusted_owner(uid: int) -> bool:
    """Files of this user, or of root (whom every user trusts anyway)."""
    return uid in (os.geteuid(), 0)



def owned_by_us(path: Path) -> bool:
    try:
        return trusted_owner(path.lstat().st_uid)
    except OSError:
        return False



def owner_name(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (KeyError, ImportError):
        return f"uid {uid}"



def untrusted_reason(path: Path, info: os.stat_result) -> str:
    """Why calctl should not run what ``path`` configures ("" when it may).

    ``info`` is the fstat of the descriptor the config was read from, so the check
    and the content are of the same file."""
    if not trusted_owner(info.st_uid):
        return (f"it is owned by {owner_name(info.st_uid)}, not by you "
                f"({owner_name(os.geteuid())})")
    mode = stat.S_IMODE(info.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not alone_as_root():
        return f"it is writable by group or others (mode {mode:o})"
    parent = path.parent
    try:
        dinfo = parent.stat()
    except OSError:
        return f"its directory {parent} cannot be checked"
    if not trusted_owner(dinfo.st_uid):
        return f"its directory {parent} is owned by {owner_name(dinfo.st_uid)}"
    dmode = dinfo.st_mode
    if dmode & (stat.S_IWGRP | stat.S_IWOTH) and not dmode & stat.S_ISVTX \
            and not alone_as_root():
        # others may replace the file by another of their choosing
        return (f"its directory {parent} is writable by group or others "
                f"(mode {stat.S_IMODE(dmode):o})")
    return ""



# PF_KTHREAD in /proc/<pid>/stat's flags: a kernel thread, visible only from the host's
# PID namespace (a container sees its own processes and none of the kernel's).
_PF_KTHREAD = 0x00200000
_alone: bool | None = None


def alone_as_root() -> bool:
    """Root, in a PID namespace of its own (a container), where every process runs as
    root: no other local user exists who could have written a file here.

    This is a CI job in a container, such as GitLab's Docker executor, whose checkout is
    mode 666 in folders mode 777 (umask 0): group and world write bits there give nobody
    anything. Anywhere else — a visible kernel thread (the host's PID namespace, where
    users without a running process still have accounts), a process of any other user,
    not root, or a /proc calctl cannot read — the bits count as they always did."""
    global _alone
    if _alone is None:
        # CALCTL_STRICT_PERMISSIONS=1 counts the bits even there: it can only make calctl
        # refuse more (the test suite sets it, so that its refusals hold in a container)
        _alone = (os.geteuid() == 0 and not os.environ.get("CALCTL_STRICT_PERMISSIONS")
                  and _only_root_processes())
    return _alone


def _only_root_processes() -> bool:
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return False
    if str(os.getpid()) not in pids:
        return False  # not this process's /proc: nothing can be concluded
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{pid}/status", "rb") as handle:
                status = handle.read()
        except (OSError, IndexError):
            continue  # it ended meanwhile
        if int(fields[6]) & _PF_KTHREAD:
            return False
        for line in status.splitlines():
            if line.startswith(b"Uid:"):
                if any(uid != b"0" for uid in line.split()[1:]):
                    return False
                break
        else:
            return False
    return True
