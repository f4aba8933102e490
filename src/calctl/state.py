"""The state directory (``.calctl/``) and the file locks for exclusive activities.

Layout (created on first need)::

    calctl.db          SQLite audit store when no database URL is set
    events.jsonl       append-only event log
    snapshots/<id>/    originals of the files a patch touched, with a manifest
    journal/<id>.json  write-ahead record of a patch in flight
    cache/             parse cache keyed by content hash and parser version
    locks/<name>.lock  one lock per exclusive activity (heal, loop, migrate, patch)

A repository can ship a ``.calctl/`` (see :mod:`calctl.trust`), so nothing in it is
followed blindly: a symbolic link in place of one of the names above is refused
rather than written through, and :func:`tracked_by_git` tells the CLI when git
tracks files in it, for a warning.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from calctl.errors import LockedError, StateError

SUBDIRS = ("snapshots", "journal", "cache", "locks")
# Everything calctl opens for writing directly under the state directory: a link planted
# under one of these names (e.g. calctl.db-wal -> ~/.bashrc) would be written through.
_OWN_NAMES = (*SUBDIRS, "calctl.db", "calctl.db-wal", "calctl.db-shm", "calctl.db-journal",
              "events.jsonl", ".gitignore")


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
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                self.path.mkdir(mode=0o700)
            _check_own_directory(self.path)
            # every link check before anything is written: a dangling .gitignore link
            # would otherwise be created at its target
            for name in _OWN_NAMES:
                if (self.path / name).is_symlink():
                    raise StateError(
                        f"{self.path / name} is a symbolic link; calctl does not write through "
                        "links in its state directory",
                        hint="Remove the link (a repository may have shipped it); calctl "
                        "recreates what it needs.", code="state-link")
            for sub in SUBDIRS:
                with contextlib.suppress(FileExistsError):
                    (self.path / sub).mkdir(mode=0o700)
                _check_own_directory(self.path / sub)
            _create_gitignore(self.path / ".gitignore")
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


def _create_gitignore(path: Path) -> None:
    """Write ``*`` to a new .gitignore; one that exists (in whatever form) is left alone,
    and nothing is ever opened through a link (O_EXCL | O_NOFOLLOW)."""
    with contextlib.suppress(FileNotFoundError):
        os.lstat(path)
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o644)
    except FileExistsError:  # made meanwhile by another calctl
        return
    try:
        os.write(fd, b"*\n")
    finally:
        os.close(fd)


def _check_own_directory(path: Path) -> None:
    """Refuse a state directory that is a link or another user's, and take group and world
    write away from one of ours (a checkout under umask 0 makes directories 777): whoever
    else can write in it can swap a file calctl writes for a link to anywhere."""
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise StateError(
            f"state directory {path} is a symbolic link; calctl does not write through links",
            hint="A repository may have shipped it: remove it, or pass the real directory "
            "with --state-dir.", code="state-link")
    if not stat.S_ISDIR(st.st_mode):
        raise StateError(f"state directory {path} is not a directory",
                         hint="Remove it, or pass another one with --state-dir.",
                         code="state-unwritable")
    if st.st_uid != os.geteuid():
        raise StateError(
            f"state directory {path} belongs to another user (uid {st.st_uid})",
            hint="calctl writes only in a state directory of its own user: remove it, or "
            "pass another one with --state-dir.", code="state-foreign")
    if st.st_mode & 0o022:
        os.chmod(path, stat.S_IMODE(st.st_mode) & ~0o022)


@dataclass(frozen=True)
class LockHolder:
    """Who holds a state-directory lock: its pid, since when, and what for."""

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
        # never through a link (a planted locks/patch.lock -> ~/.bashrc would be truncated),
        # never blocking on a planted FIFO
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                     0o644)
    except OSError as exc:
        raise StateError(f"cannot open lock file {path}: {exc.strerror}",
                         hint="Remove it if it is a link or not a plain file; calctl makes a "
                         "new one.") from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StateError(f"lock file {path} is not a regular file",
                         hint="Remove it; calctl makes a new one.")
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


def tracked_by_git(state_dir: Path) -> list[str]:
    """Files under ``state_dir`` that git tracks (relative to the work tree), or [].

    Anything tracked there came with the repository or will go out with it; calctl
    does not trust it (see :mod:`calctl.trust`), and the CLI says so. Cheap when
    nothing is tracked, as almost always: a few ``stat`` calls, then the index is
    searched for the directory's name without parsing it, and git runs only when
    the name is there (or the index format or a ``.git`` file needs git to read).
    """
    try:
        state_dir = state_dir.resolve()
        if not state_dir.is_dir():
            return []
    except OSError:
        return []
    top = next((d for d in state_dir.parents if (d / ".git").exists()), None)
    if top is None:
        return []
    rel = state_dir.relative_to(top).as_posix()
    git_dir = _git_dir(top / ".git")
    if git_dir is not None and not _index_may_name(git_dir / "index", rel):
        return []
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        proc = subprocess.run(["git", "--literal-pathspecs", "ls-files", "-z", "--", rel],
                              cwd=top, env=env, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return []
    if proc.returncode != 0:
        return []
    return [p for p in proc.stdout.decode("utf-8", "replace").split("\0") if p]


def _git_dir(dot_git: Path) -> Path | None:
    """The git directory ``.git`` is or points to (a worktree's or submodule's ``.git`` file
    says ``gitdir: <path>``); None when it cannot tell."""
    if dot_git.is_dir():
        return dot_git
    try:
        text = dot_git.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not text.startswith("gitdir: "):
        return None
    return dot_git.parent / text[len("gitdir: "):].strip()


def _index_may_name(index: Path, rel: str) -> bool:
    """False only when the git index certainly lists no path under ``rel``: versions 2 and
    3 store every path whole, so the bytes ``rel/`` must appear in it."""
    import mmap

    try:
        with open(index, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < 12:
                return False  # no index yet: nothing is tracked
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
                if data[:4] != b"DIRC" or data[4:8] not in (b"\0\0\0\2", b"\0\0\0\3"):
                    return True  # version 4 compresses paths: ask git
                return data.find((rel + "/").encode()) >= 0
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        return True
