"""The last error in a log of any size, read as a stream.

A log is read line by line (each line cut at :data:`LINE_CAP` characters, the rest of
it skipped unread into memory, undecodable bytes replaced), never whole: memory holds
the lines before the current position that breadcrumbs may need, the error region
being read, and the last few finished regions — the same for a 1 MB log and a 1 GB one.

A region starts at a line :data:`~calctl.report.parsers.TRIGGER` flags (a traceback
header, a frame, ``ERROR:  ``, a pytest ``E`` line …), keeps the lines before it, and
ends :data:`QUIET` lines after the last flagged line. At the end the newest region the
parsers find an error in gives the error; the lines before that error, up to
``breadcrumbs``, are its breadcrumbs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from calctl.report.model import ParsedError
from calctl.report.parsers import TRIGGER, last_error

LINE_CAP = 8192  # characters of a log line kept (cut, not dropped; scrubbed before any
# shorter cut, so a secret near a cut is seen whole)
QUIET = 40  # lines without a flagged one that end a region
REGION_CAP = 4000  # lines of one region kept (its start and its newest lines)
KEPT_REGIONS = 4  # finished regions kept, newest last, in case the newest holds no error
CHUNK = 1 << 16


@dataclass(frozen=True)
class LogError:
    """An error found in a log: the block's lines and the breadcrumbs before it."""

    error: ParsedError
    block: list[str]
    breadcrumbs: list[str]
    lines_read: int


def iter_lines(stream: BinaryIO, cap: int = LINE_CAP) -> Iterator[str]:
    """Lines of ``stream`` without their ends, each cut at ``cap`` characters; a longer
    line is read on in chunks and dropped, never held whole."""
    limit = cap * 4 + 4  # UTF-8: at most 4 bytes a character
    while True:
        raw = stream.readline(limit)
        if not raw:
            return
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not raw.endswith(b"\n"):
            rest = raw
            while rest and not rest.endswith(b"\n"):
                rest = stream.readline(CHUNK)
        if len(text) > cap or len(raw) == limit:
            # cut: drop the word the cut went through, which may be part of a secret
            # that no longer looks like one
            text = text[:cap]
            words = text.split()
            text = (text[:len(text.rstrip()) - len(words[-1])] if words else "") + "[…]"
        yield text


def _new_region(before: deque[str]) -> list[str]:
    return list(before)


def last_log_error(stream: BinaryIO, *, breadcrumbs: int = 20) -> LogError | None:
    """The last error in the log ``stream`` and up to ``breadcrumbs`` lines before it."""
    lead = breadcrumbs + QUIET + 10  # a pytest failure's source lines precede its E lines
    before: deque[str] = deque(maxlen=lead)
    regions: deque[list[str]] = deque(maxlen=KEPT_REGIONS)
    current: list[str] | None = None
    quiet = 0
    count = 0
    for line in iter_lines(stream):
        count += 1
        flagged = TRIGGER.search(line) is not None
        if flagged and current is None:
            current = _new_region(before)
        if current is not None:
            current.append(line)
            quiet = 0 if flagged else quiet + 1
            if len(current) > REGION_CAP:
                # keep the lead and the newest lines: an error is found from its end
                del current[lead:lead + REGION_CAP // 2]
            if quiet > QUIET:
                regions.append(current)
                current = None
        before.append(line)
    if current is not None:
        regions.append(current)
    for region in reversed(regions):
        error = last_error(region)
        if error is not None:
            crumbs = region[max(0, error.start - breadcrumbs):error.start] if breadcrumbs else []
            return LogError(error, region[error.start:error.end], crumbs, count)
    return None


def text_error(text: str, *, breadcrumbs: int = 20) -> LogError | None:
    """:func:`last_log_error` of text already in memory (an error text, a traceback)."""
    lines = [line[:LINE_CAP] for line in text.splitlines()]
    error = last_error(lines)
    if error is None:
        return None
    crumbs = lines[max(0, error.start - breadcrumbs):error.start] if breadcrumbs else []
    return LogError(error, lines[error.start:error.end], crumbs, len(lines))
