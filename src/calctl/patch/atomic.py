"""Durable, atomic file operations: a reader sees the old bytes or the new, never half.

A write goes to a temp file in the same directory (same filesystem, so
``os.replace`` is an atomic rename), is fsynced, renamed over the target, and
the directory is fsynced so the rename itself survives a power cut. Temp
names are deterministic (``.<name>.calctl-<tag>.tmp``) so that recovery can
find and remove the ones a crash left, without listing anything but the
directories the patch touched.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def temp_path(path: Path, tag: str) -> Path:
    """Where :func:`write_atomic` stages the new content of ``path``."""
    return path.parent / f".{path.name}.calctl-{tag}{TEMP_SUFFIX}"


def fsync_dir(directory: Path) -> None:
    """Make renames and unlinks inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int, tag: str) -> None:
    """Replace ``path`` with ``data`` (permission bits ``mode``) atomically and durably."""
    tmp = temp_path(path, tag)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fchmod(fd, mode & 0o7777)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def remove_durable(path: Path) -> bool:
    """Unlink ``path`` if present and fsync its directory; True when something was removed."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    fsync_dir(path.parent)
    return True


def remove_temp(path: Path, tag: str) -> bool:
    """Remove the temp file a crashed :func:`write_atomic` of ``path`` may have left."""
    try:
        return remove_durable(temp_path(path, tag))
    except FileNotFoundError:  # the directory itself is gone
        return False
    except NotADirectoryError:
        return False


def make_dirs(directory: Path, root: Path) -> list[Path]:
    """Create ``directory`` and missing parents (never above ``root``); returns those created,
    outermost first, so that a rollback can remove exactly them."""
    missing: list[Path] = []
    current = directory
    while current != root and not current.exists():
        missing.append(current)
        current = current.parent
    created: list[Path] = []
    for path in reversed(missing):
        path.mkdir()
        fsync_dir(path.parent)
        created.append(path)
    return created
