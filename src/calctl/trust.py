"""Authenticating what calctl reads back from its state directory.

A repository can ship any file, a committed ``.calctl/`` included, so a journal,
snapshot manifest or cache entry found on disk proves nothing by being there.
calctl seals what it writes with a keyed BLAKE2b tag (a MAC) under a key kept
*outside* every project: ``$CALCTL_KEY_FILE``, else
``$XDG_CONFIG_HOME/calctl/state.key`` (``~/.config/calctl/state.key``), made once
with mode 0600. Whatever does not carry a valid tag under this user's key — a
file a repository shipped, another user planted, or a fresh CI machine finds in
its checkout — is inert: a cache miss, a journal reported and left alone.

A key file that another user owns, or that group or others may read or write, is
not used (it could be known to them); without a usable key nothing verifies, so
caches are off and patches that need a journal refuse with a StateError.

Sealed format: one header line, then the data unchanged::

    calctl-sealed v1 <purpose> <hex tag>\\n<data>

The tag covers the purpose and the data, so a sealed cache file cannot stand in
for a journal.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

try:  # constant-time comparison without hmac, whose import loads OpenSSL (~3.5 ms)
    from _operator import _compare_digest as compare_digest
except ImportError:  # pragma: no cover - another interpreter
    from hmac import compare_digest  # type: ignore[no-redef]

try:  # hashlib.blake2b itself, without hashlib loading OpenSSL first (~5 ms)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

KEY_BYTES = 32
TAG_BYTES = 32
MAGIC = b"calctl-sealed v1 "

_cached: dict[str, bytes] = {}


def key_path() -> Path:
    """Where this user's key lives (see the module docstring)."""
    explicit = os.environ.get("CALCTL_KEY_FILE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "calctl" / "state.key"


def _read_key(path: Path) -> bytes | None:
    """The key at ``path`` when it is ours alone; None otherwise (never follows a link)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
            return None
        data = os.read(fd, KEY_BYTES + 1)
    finally:
        os.close(fd)
    return data if len(data) == KEY_BYTES else None


def _create_key(path: Path) -> bytes | None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.parent / f".state.key.{os.getpid()}-{os.urandom(4).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            os.write(fd, os.urandom(KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # never replaces a key another process made first
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    except OSError:
        return None
    return _read_key(path)


def state_key(*, create: bool = True) -> bytes | None:
    """This user's key, made on first use when ``create``; None when none is usable."""
    path = key_path()
    cache_key = str(path)
    found = _cached.get(cache_key)
    if found is not None:
        return found
    # no key yet: look again each time (one failed open), since another process — a
    # forked early child, a concurrent calctl — may have made it since
    key = _read_key(path)
    if key is None and create and not path.exists():
        key = _create_key(path)
    if key is not None:
        _cached[cache_key] = key
    return key


def key_problem() -> str:
    """Why no key is usable, as a sentence for an error message."""
    path = key_path()
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return f"the state key {path} does not exist and cannot be created"
    except OSError as exc:
        return f"the state key {path} cannot be read: {exc.strerror}"
    if st.st_uid != os.geteuid():
        return f"the state key {path} belongs to another user"
    if st.st_mode & 0o077:
        mode = st.st_mode & 0o777
        return f"the state key {path} is readable or writable by others (mode {mode:o})"
    return f"the state key {path} is not a {KEY_BYTES}-byte key"


def tag(data: bytes, purpose: str, key: bytes | None = None) -> str | None:
    """The hex tag of ``data`` for ``purpose``; None without a usable key."""
    key = key if key is not None else state_key()
    if key is None:
        return None
    mac = blake2b(key=key, digest_size=TAG_BYTES)
    mac.update(purpose.encode() + b"\0")
    mac.update(data)
    return mac.hexdigest()


def seal(data: bytes, purpose: str) -> bytes | None:
    """``data`` with a header carrying its tag; None without a usable key."""
    if " " in purpose or "\n" in purpose:
        raise ValueError(f"purpose {purpose!r} must be one word")
    digest = tag(data, purpose)
    if digest is None:
        return None
    return MAGIC + purpose.encode() + b" " + digest.encode() + b"\n" + data


def unseal(blob: bytes, purpose: str) -> bytes | None:
    """The data of a sealed ``blob`` when its tag is valid for ``purpose``, else None."""
    if not blob.startswith(MAGIC):
        return None
    end = blob.find(b"\n", 0, 256)
    if end < 0:
        return None
    fields = blob[len(MAGIC):end].split(b" ")
    if len(fields) != 2 or fields[0] != purpose.encode():
        return None
    data = blob[end + 1:]
    key = state_key(create=False)
    if key is None:  # tag(key=None) would fall back to state_key() and make a key on a read
        return None
    expected = tag(data, purpose, key)
    if expected is None:
        return None
    return data if compare_digest(expected.encode(), fields[1]) else None
