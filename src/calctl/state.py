"""The state directory (``.calctl/``) and the file locks for exclusive activities.

Layout (created on first need)::

    calctl.db          SQLite audit store when no database URL is set
    events.jsonl       append-only event log
    snapshots/<id>/    originals of the files a patch touched, with a manifest
    journal/<id>.json  write-ahead record of a patch in flight
    cache/             parse cache keyed by content hash and parser version
    locks/<name>.lock  one lock per exclusive activity (heal, loop, migrate, patch)
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from calctl.errors import LockedError, StateError

SUBDIRS = ("snapshots", "journal", "cache", "locks")


@dataclass(frozen=True)
class StateDir:
    """Paths inside one state directory; :meth:`ensure` creates it."""

    path: Path

    @property
    def db_path(self) -> Path:
        return self.path / "calctl.db"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def snapshots(self) -> Path:
        return self.path / "snapshots"

    @property
    def journal(self) -> Path:
        return self.path / "journal"

    @property
    def cache(self) -> Path:
        return self.path / "cache"

    @property
    def locks(self) -> Path:
        return self.path / "locks"

    def ensure(self) -> StateDir:
        """Create the directory and its layout; an unwritable path is a StateError."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for sub in SUBDIRS:
                (self.path / sub).mkdir(exist_ok=True)
            gitignore = self.path / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
        except OSError as exc:
            raise StateError(
                f"cannot create state directory {self.path}: {exc.strerror or exc}",
                hint="Pass a writable directory with --state-dir or CALCTL_STATE_DIR.",
                code="state-unwritable",
            ) from exc
        if not os.access(self.path, os.W_OK):
            raise StateError(
                f"state directory {self.path} is not writable",
                hint="Fix its permissions or pass another one with --state-dir.",
                code="state-unwritable",
            )
        return self

    @contextlib.contextmanager
    def lock(self, name: str, *, timeout: float = 0.0, purpose: str = "") -> Iterator[None]:
        """Hold ``locks/<name>.lock`` exclusively; see :func:`file_lock`."""
        self.ensure()
        with file_lock(self.locks / f"{name}.lock", timeout=timeout, purpose=purpose or name):
            yield


@dataclass(frozen=True)
class LockHolder:
    pid: int
    since: str
    purpose: str


def read_holder(path: Path) -> LockHolder | None:
    """Who holds the lock at ``path`` (as written by the holder), if known."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
        return LockHolder(int(data["pid"]), str(data["since"]), str(data.get("purpose", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float = 0.0, purpose: str = "") -> Iterator[None]:
    """An exclusive ``flock`` on ``path``; waits up to ``timeout`` seconds.

    The holder writes its pid and start time into the file so that a waiter that
    gives up can say who is in the way (LockedError, exit 3). The kernel drops
    the lock when the holder dies, so a crash never leaves a stale lock behind.
    """
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StateError(f"cannot open lock file {path}: {exc.strerror}") from exc
    try:
        deadline = time.monotonic() + max(timeout, 0.0)
        delay = 0.02
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise StateError(f"cannot lock {path}: {exc.strerror}") from exc
                if time.monotonic() >= deadline:
                    holder = read_holder(path)
                    who = (
                        f"process {holder.pid} (since {holder.since})"
                        if holder
                        else "another process"
                    )
                    raise LockedError(
                        f"{purpose or path.stem} is locked by {who}; waited {timeout:g} s",
                        hint=f"Wait for it to finish, or stop it; the lock is {path}.",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.25)
        info = json.dumps(
            {"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds"),
             "purpose": purpose}
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
