"""Appending events (``emit``) and reading them back (``read_events``, ``follow``).

events.jsonl is shared by every process of a project: each event is one
``os.write`` of one whole line on an ``O_APPEND`` descriptor, so lines from
concurrent writers never interleave. The store gets the same event as a row.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.documents import Event
from calctl.errors import StateError
from calctl.ids import new_id, now_iso

if TYPE_CHECKING:
    from calctl.store.base import Store


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
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            except OSError as exc:
                raise StateError(f"cannot open event log {self.path}: {exc.strerror}",
                                 code="state-unwritable") from exc
        return self._fd

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
    if not path.exists():
        return []
    events = []
    with path.open("r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            event = _parse(line)
            if event is not None and _matches(event, since, type_prefix):
                events.append(event)
    return events


def follow(path: Path, *, since: str | None = None, type_prefix: str | None = None,
           poll: float = 0.2, stop: Callable[[], bool] = lambda: False,
           from_start: bool = True) -> Iterator[Event]:
    """Yield matching events as they are appended (by any process), until ``stop()``."""
    position = 0
    if not from_start and path.exists():
        position = path.stat().st_size
    buffer = b""
    while not stop():
        if path.exists():
            with path.open("rb") as fh:
                if fh.seek(0, os.SEEK_END) < position:  # truncated or replaced: start over
                    position = 0
                fh.seek(position)
                chunk = fh.read()
                position = fh.tell()
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                event = _parse(raw.decode("utf-8", "replace"))
                if event is not None and _matches(event, since, type_prefix):
                    yield event
        time.sleep(poll)
