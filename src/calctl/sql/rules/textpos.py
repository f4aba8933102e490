"""Finding words in a statement's text, for the statement rules whose tree lacks a
position (an ``ALTER TABLE`` action has none) or whose fix edits a keyword."""

from __future__ import annotations

import re

from calctl.sql.rules.statement import FileScope
from calctl.sql.statements import Statement


def line_column(text: str, offset: int) -> tuple[int, int]:
    """(line, column), 1-based, of a character offset of ``text``."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def search(stmt: Statement, scope: FileScope, pattern: re.Pattern[str],
           ) -> re.Match[str] | None:
    """The only match of ``pattern`` in the statement's text (offsets in the file's text),
    or None when there is none or more than one: a fix must not guess."""
    start, end = stmt.char(), stmt.char_end
    found = list(pattern.finditer(scope.source.text, start, end))
    return found[0] if len(found) == 1 else None


def at(stmt: Statement, scope: FileScope, location: int | None,
       pattern: re.Pattern[str]) -> re.Match[str] | None:
    """``pattern`` matched exactly at a tree ``location`` of the statement."""
    if location is None or location < 0:
        return None
    return pattern.match(scope.source.text, stmt.char(location), stmt.char_end)


def quoted_name(name: str) -> str:
    """A regular expression for an identifier as written: bare (any case) or quoted."""
    bare = re.escape(name)
    quoted = re.escape('"' + name.replace('"', '""') + '"')
    return f"(?:{quoted}|(?i:{bare})(?![\\w$]))"
