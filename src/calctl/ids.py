"""Identifiers and timestamps shared by every record calctl writes."""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime


def new_id() -> str:
    """A time-ordered unique id: sorts by creation time as plain text on every backend."""
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


_ID = re.compile(r"[0-9a-f]{24,40}")


def is_id(text: object) -> bool:
    """Whether ``text`` has the shape :func:`new_id` makes: safe as a file name and a temp
    file tag (no separator, no dot), so an id read back from disk cannot name another path."""
    return isinstance(text, str) and _ID.fullmatch(text) is not None


def now_iso() -> str:
    """The current UTC time as ISO-8601 text with microseconds (sortable as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
