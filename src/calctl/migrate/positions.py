"""Turning a character offset of a file's text into a 1-based line and column."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    line: int
    column: int


def location(text: str, offset: int) -> Location:
    """Line and column (both 1-based, column in characters) of ``text[offset]``."""
    offset = max(0, min(offset, len(text)))
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(text.count("\n", 0, offset) + 1, offset - line_start + 1)


def server_position(text: str, sent_from: int, position: int) -> Location:
    """Where the server's 1-based ``position`` (P field) points in the file.

    ``sent_from`` is the file offset of the first character the server received
    (0 when the whole file was sent, the statement's start when one statement was).
    """
    return location(text, sent_from + position - 1)


def first_code(text: str, start: int, end: int) -> int:
    """Offset of the first character in ``text[start:end]`` that is neither blank nor comment."""
    i = start
    while i < end:
        if text[i].isspace():
            i += 1
        elif text.startswith("--", i):
            newline = text.find("\n", i, end)
            i = end if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2, end)
            i = end if close < 0 else close + 2
        else:
            return i
    return start


def source_line(text: str, line: int) -> str:
    """The text of 1-based ``line`` (without its newline), for a caret under an error."""
    lines = text.split("\n")
    return lines[line - 1] if 0 < line <= len(lines) else ""
