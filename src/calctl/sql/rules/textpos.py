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


def alter_actions(stmt: Statement, scope: FileScope) -> list[int] | None:
    """The character offset where each action of an ``ALTER TABLE`` starts (the tree
    gives actions no position), in the order of its ``cmds``; None when the text does
    not split into as many actions (a template changed it, say)."""
    from calctl.sql.extract.core import load_parser

    cmds = stmt.node.get("cmds") or ()
    relation = stmt.node.get("relation") or {}
    if not cmds or relation.get("location", -1) < 0:
        return None
    parser = load_parser()
    base, text = stmt.char(), scope.source.text
    name_at = stmt.char(relation["location"]) - base
    try:
        scanned = parser.scan(text[base:stmt.char_end])
    except parser.ParseError:
        return None
    tokens = [t for t in scanned if t.name not in ("SQL_COMMENT", "C_COMMENT")]
    i = next((n for n, t in enumerate(tokens) if t.start >= name_at), len(tokens)) + 1
    while i + 1 < len(tokens) and tokens[i].name == "ASCII_46":  # schema.name
        i += 2
    if i < len(tokens) and tokens[i].name == "ASCII_42":  # ONLY t *
        i += 1
    starts = [base + tokens[i].start] if i < len(tokens) else []
    depth = 0
    for n in range(i, len(tokens)):
        kind = tokens[n].name
        if kind == "ASCII_40":
            depth += 1
        elif kind == "ASCII_41":
            depth -= 1
        elif depth == 0 and kind == "ASCII_59":
            break
        elif depth == 0 and kind == "ASCII_44" and n + 1 < len(tokens):
            starts.append(base + tokens[n + 1].start)
    return starts if len(starts) == len(cmds) else None
