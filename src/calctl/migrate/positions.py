"""Turning a character offset of a file's text into a 1-based line and column."""

from __future__ import annotations

import re
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


_NAMED = re.compile(r'^(?:relation|table|type|function|schema|sequence|column|view|index|'
                    r'constraint|operator|extension|role)\s+"([^"]+)"')


def named_object(text: str, start: int, end: int, message: str) -> int | None:
    """Where the object a position-less message names (``relation "users" …``) appears.

    PostgreSQL gives no position for errors found while executing (a foreign key
    to a missing table, say); pointing at the name inside the statement beats
    pointing at its first line. None when the message names nothing findable.
    """
    match = _NAMED.match(message)
    if not match:
        return None
    name = match.group(1).rsplit(".", 1)[-1]
    pattern = re.compile(r'(?<![\w$"])"?' + re.escape(name) + r'"?(?![\w$])', re.I)
    found = pattern.search(text, first_code(text, start, end), end)
    return found.start() if found else None


def source_line(text: str, line: int) -> str:
    """The text of 1-based ``line`` (without its newline), for a caret under an error."""
    lines = text.split("\n")
    return lines[line - 1] if 0 < line <= len(lines) else ""
