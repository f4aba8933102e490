"""The lines around the failing line, read without loading the file whole.

``context`` lines before and after (``report.context_lines``, default 5 → 11 lines,
as Sentry shows; at most :data:`MAX_LINES` in all), each cut at :data:`LINE_CHARS`
characters once scrubbed; the file is read line by line up to the last line wanted, each line
itself read in bounded pieces (a 1 GB file, or one 1 GB line, costs no more memory
than a small file); bytes that are not UTF-8 are replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from calctl.report.logread import iter_lines

MAX_LINES = 50
LINE_CHARS = 300
# characters of a source line read: the line is cut at LINE_CHARS only after it was
# scrubbed, so a secret straddling the cut is still seen whole
READ_CHARS = 4096


@dataclass(frozen=True)
class Lines:
    first_line: int
    lines: list[str]


def read_around(path: Path, line: int, context: int) -> Lines | None:
    """Lines ``line - context`` … ``line + context`` of ``path`` (1-based), capped at
    :data:`MAX_LINES` around ``line``; None when the file cannot be read or is shorter."""
    if line < 1:
        return None
    before = min(context, (MAX_LINES - 1) // 2)
    after = min(context, MAX_LINES - 1 - before)
    first = max(1, line - before)
    last = line + after
    kept: list[str] = []
    try:
        with open(path, "rb") as handle:
            for number, text in enumerate(iter_lines(handle, READ_CHARS), start=1):
                if number >= first:
                    kept.append(text)
                if number >= last:
                    break
    except OSError:
        return None
    if len(kept) < line - first + 1:
        return None  # the file has no such line (changed since the error)
    return Lines(first, kept)


def line_at(path: Path, line: int) -> str:
    """Line ``line`` of ``path`` ("" when unreadable)."""
    found = read_around(path, line, 0)
    return found.lines[0] if found and found.lines else ""
