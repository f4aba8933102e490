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


# Strings one of which every error block holds; a piece of log without any of them is
# skipped at C speed (only its last lines are kept, as possible breadcrumbs).
NEEDLES = ("Traceback (most recent call last)", "ERROR:  ", "FATAL:  ", "PANIC:  ", "psql:",
           '  File "', "    at ", "\nE ", "\n___", "above exception")
PIECE = 1 << 18


def _cut(text: str, cap: int) -> str:
    """``text`` cut at ``cap`` characters, without the word the cut went through."""
    text = text[:cap]
    words = text.split()
    return (text[:len(text.rstrip()) - len(words[-1])] if words else "") + "[…]"


def iter_pieces(stream: BinaryIO, cap: int = LINE_CAP) -> Iterator[tuple[str, list[str]]]:
    """The log as pieces of whole lines: (the piece's text, its lines cut at ``cap``). A
    line longer than a piece is cut and the rest of it skipped unread into memory."""
    limit = cap * 4 + 4
    rest = b""
    while True:
        data = stream.read(PIECE)
        if not data:
            break
        data = rest + data
        end = data.rfind(b"\n")
        if end < 0:
            if len(data) < limit:
                rest = data
                continue
            # one line longer than the cap: keep its start, skip to its end
            line = _cut(data[:limit].decode("utf-8", "replace"), cap)
            while True:
                more = stream.read(PIECE)
                if not more or b"\n" in more:
                    rest = more[more.find(b"\n") + 1:] if more else b""
                    break
            yield line, [line]
            continue
        rest = data[end + 1:]
        text = data[:end].decode("utf-8", "replace")
        lines = text.split("\n")
        if len(text) > cap and max(map(len, lines)) > cap:
            lines = [_cut(line, cap) if len(line) > cap else line for line in lines]
        if "\r" in text:
            lines = [line.rstrip("\r") for line in lines]
        yield text, lines
    if rest:
        text = rest.decode("utf-8", "replace").rstrip("\r")
        text = _cut(text, cap) if len(text) > cap else text
        yield text, [text]


def last_log_error(stream: BinaryIO, *, breadcrumbs: int = 20) -> LogError | None:
    """The last error in the log ``stream`` and up to ``breadcrumbs`` lines before it."""
    lead = breadcrumbs + QUIET + 10  # a pytest failure's source lines precede its E lines
    before: deque[str] = deque(maxlen=lead)
    regions: deque[list[str]] = deque(maxlen=KEPT_REGIONS)
    current: list[str] | None = None
    quiet = 0
    count = 0
    for text, lines in iter_pieces(stream):
        count += len(lines)
        if current is None and not text.startswith(("E ", "___")) and \
                not any(needle in text for needle in NEEDLES):
            before.extend(lines[-lead:])
            continue
        for line in lines:
            flagged = TRIGGER.search(line) is not None
            if flagged and current is None:
                current = list(before)
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
