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
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"it is writable by group or others (mode {mode:o})"
    parent = path.parent
    try:
        dinfo = parent.stat()
    except OSError:
        return f"its directory {parent} cannot be checked"
    if not trusted_owner(dinfo.st_uid):
        return f"its directory {parent} is owned by {owner_name(dinfo.st_uid)}"
    dmode = dinfo.st_mode
    if dmode & (stat.S_IWGRP | stat.S_IWOTH) and not dmode & stat.S_ISVTX:
        # others may replace the file by another of their choosing
        return (f"its directory {parent} is writable by group or others "
                f"(mode {stat.S_IMODE(dmode):o})")
    return ""
