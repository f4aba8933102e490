"""Identifiers and timestamps shared by every record calctl writes."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime


def new_id() -> str:
    """A time-ordered unique id: sorts by creation time as plain text on every backend."""
    return f"{time.time_ns():016x}{secrets.token_hex(4)}"


def now_iso() -> str:
    """The current UTC time as ISO-8601 text with microseconds (sortable as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
