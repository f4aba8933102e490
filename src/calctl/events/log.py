"""Appending events (``emit``) and reading them back (``read_events``, ``follow``).

events.jsonl is shared by every process of a project: each event is one
``os.write`` of one whole line on an ``O_APPEND`` descriptor, so lines from
concurrent writers never interleave. The store gets the same event as a row.

A repository can ship a ``.calctl/events.jsonl``, so the log is opened without
following a link and without blocking (a FIFO would hang a patch half-way), and
only a regular file is used: anything else is a StateError naming it. Reading keeps
at most one line of :data:`MAX_LINE` bytes in memory, whatever the file holds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from calctl.documents import Event
from calctl.errors import StateError
from calctl.ids import new_id, now_iso

if TYPE_CHECKING:
    from calctl.store.base import Store


# An event line calctl writes is a few KiB; a longer one is not ours and is skipped.
MAX_LINE = 1 << 20


def open_log(path: Path, flags: int) -> int:
    """A descriptor on the regular file ``path`` (never through a link, never blocking on
    a FIFO or device); StateError naming the file otherwise."""
    problem = ""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            problem = "is a symbolic link"
        elif exc.errno == errno.ENXIO:  # a FIFO nobody reads
            problem = "is not a regular file"
        else:
            raise StateError(f"cannot open event log {path}: {exc.strerror}",
                             code="state-unwritable") from exc
    else:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
            return fd
        os.close(fd)
        problem = "is not a regular file"
    raise StateError(f"event log {path} {problem}; calctl reads and appends only a regular "
                     "file there", hint="Remove it (a repository may have shipped it); calctl "
                     "makes a new one.", code="state-link")


class EventLog:
    """Writes events of one process to ``path`` and, when given, to ``store``."""

    def __init__(self, path: Path, store: Store | None = None) -> None:
        self.path = path
        self.store = store
        self._fd: int | None = None

    def _descriptor(self) -> int:
        if self._fd is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = open_log(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            except OSError as exc:
                raise StateError(f"cannot open event log {self.path}: {exc.strerror}",
                                 code="state-unwritable") from exc
        return self._fd

    def check(self) -> None:
        """Open the log now: a command that must not fail half-way (a patch) learns of a
        broken log before it changes anything."""
        self._descriptor()

    def emit(self, type_: str, subject: str = "", data: dict[str, Any] | None = None) -> Event:
        """Record one event (dotted type such as ``patch.verified``) and return it."""
        event = Event(ts=now_iso(), type=type_, subject=subject, data=dict(data or {}),
                      id=new_id(), pid=os.getpid())
        line = (json.dumps(event.to_dict(), default=str, ensure_ascii=False) + "\n").encode()
        fd = self._descriptor()
        written = os.write(fd, line)
        if written != len(line):  # only on a full disk; say so rather than leave half a line
            raise StateError(f"event log {self.path}: short write ({written}/{len(line)} bytes)")
        if self.store is not None:
            self.store.add_event(event.id, event.ts, event.type, event.subject, event.data,
                                 event.pid)
        return event

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse(line: str) -> Event | None:
    try:
        data = json.loads(line)
        return Event.from_dict(data)  # type: ignore[no-any-return]
    except Exception:
        return None  # a torn or foreign line is skipped, never fatal


def _matches(event: Event, since: str | None, type_prefix: str | None) -> bool:
    if since and event.ts < since:
        return False
    return not (type_prefix and not event.type.startswith(type_prefix))


def read_events(path: Path, *, since: str | None = None,
                type_prefix: str | None = None) -> list[Event]:
    """Every event in the log file that matches the filters, oldest first."""
    try:
        fd = open_log(path, os.O_RDONLY)
    except FileNotFoundError:
        return []
    events = []
    with os.fdopen(fd, "rb") as fh:
        for line in _lines(fh):
            event = _parse(line.decode("utf-8", "replace"))
            if event is not None and _matches(event, since, type_prefix):
                events.append(event)
    return events


def _lines(fh: BinaryIO) -> Iterator[bytes]:
    """The lines of ``fh``, skipping (without holding) any longer than MAX_LINE."""
    while line := fh.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            while (rest := fh.readline(MAX_LINE)) and not rest.endswith(b"\n"):
                pass
            continue
        yield line


def follow(path: Path, *, since: str | None = None, type_prefix: str | None = None,
           poll: float = 0.2, stop: Callable[[], bool] = lambda: False,
           from_start: bool = True) -> Iterator[Event]:
    """Yield matching events as they are appended (by any process), until ``stop()``."""
    position = 0
    if not from_start and path.exists():
        position = path.stat().st_size
    buffer = b""
    while not stop():
        fd = None
        with contextlib.suppress(FileNotFoundError):
            fd = open_log(path, os.O_RDONLY)
        if fd is not None:
            with os.fdopen(fd, "rb") as fh:
                if fh.seek(0, os.SEEK_END) < position:  # truncated or replaced: start over
                    position = 0
                fh.seek(position)
                while chunk := fh.read(MAX_LINE):  # a bounded piece at a time
                    position = fh.tell()
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    if len(buffer) > MAX_LINE:  # one line longer than any event: not ours
                        buffer = b""
                    for raw in lines:
                        event = _parse(raw.decode("utf-8", "replace"))
                        if event is not None and _matches(event, since, type_prefix):
                            yield event
        time.sleep(poll)
