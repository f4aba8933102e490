"""Durable, atomic file operations: a reader sees the old bytes or the new, never half.

A write goes to a temp file in the same directory (same filesystem, so
``os.replace`` is an atomic rename), is fsynced, renamed over the target, and
the directory is fsynced so the rename itself survives a power cut. Temp
names are ``.<name>.calctl-<tag>-<random>.tmp``: recognisable, so that recovery can
find and remove the ones a crash left by listing only the directories the patch
touched, and unpredictable, so that nobody else who can write in a directory (a
checkout made under umask 0) can plant a link under the name beforehand. The temp
file is created with ``O_EXCL | O_NOFOLLOW``: never through anything already there.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

TEMP_SUFFIX = ".tmp"
# A temp name must fit NAME_MAX (255 bytes) whatever the target's name: long names are
# cut (the tag and the random part identify the file, the name only helps a reader).
_NAME_ROOM = 150


def _temp_prefix(path: Path, tag: str) -> str:
    name = path.name.encode("utf-8", "surrogateescape")[:_NAME_ROOM]
    return f".{name.decode('utf-8', 'ignore')}.calctl-{tag}-"


def temp_path(path: Path, tag: str) -> Path:
    """A fresh, unpredictable name where :func:`write_atomic` stages ``path``."""
    return path.parent / f"{_temp_prefix(path, tag)}{secrets.token_hex(8)}{TEMP_SUFFIX}"


def _create_exclusive(path: Path, tag: str) -> tuple[Path, int]:
    """Create a new temp file beside ``path``, failing rather than opening anything that
    exists (a file, a link, a FIFO someone planted)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(100):
        tmp = temp_path(path, tag)
        try:
            return tmp, os.open(tmp, flags, 0o600)
        except FileExistsError:
            continue  # 64 random bits taken: someone is guessing; draw again
    raise FileExistsError(f"no free temp name beside {path}")


def fsync_dir(directory: Path) -> None:
    """Make renames and unlinks inside ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int, tag: str) -> None:
    """Replace ``path`` with ``data`` (permission bits ``mode``) atomically and durably."""
    tmp, fd = _create_exclusive(path, tag)
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
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:  # such a name cannot exist
            return False
        raise
    fsync_dir(path.parent)
    return True


def remove_temp(path: Path, tag: str) -> bool:
    """Remove the temp files a crashed :func:`write_atomic` of ``path`` may have left (and
    the fixed name older calctl versions used). Only names calctl makes for ``tag`` are
    touched, and only as directory entries: a link is unlinked, never followed, and a
    directory under such a name is left alone."""
    prefix = _temp_prefix(path, tag)
    legacy = f".{path.name}.calctl-{tag}{TEMP_SUFFIX}"
    try:
        names = [n for n in os.listdir(path.parent)
                 if n == legacy or (n.startswith(prefix) and n.endswith(TEMP_SUFFIX))]
    except OSError:  # the directory is gone, or is not one
        return False
    removed = False
    for name in names:
        candidate = path.parent / name
        try:
            mode = os.lstat(candidate).st_mode
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                removed = remove_durable(candidate) or removed
        except OSError:
            continue
    return removed


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
