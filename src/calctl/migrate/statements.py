"""Statements of a migration file with their character offsets in the file.

The offsets are what lets a server error position (counted in characters from
the start of the text the server received) be turned back into a line and
column of the file. pglast (the PostgreSQL parser) splits text it can parse;
its scanner splits text with syntax errors; sqlparse is the last resort for
text neither accepts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement: its text and ``[start, end)`` character offsets in the file text."""

    start: int
    end: int
    text: str


def split_with_offsets(text: str) -> list[Statement]:
    """Every statement of ``text`` (comments and blank space between them dropped)."""
    slices = _pglast_slices(text)
    if slices is None:
        return _sqlparse_statements(text)
    return [Statement(s.start, s.stop, text[s.start:s.stop]) for s in slices
            if text[s.start:s.stop].strip()]


def _pglast_slices(text: str) -> list[slice] | None:
    try:
        from calctl.sql.pgparser import parser as load_parser

        parser = load_parser()
    except ImportError:  # pragma: no cover - pglast is a hard dependency
        return None
    for with_parser in (True, False):
        try:
            return list(parser.split(text, with_parser=with_parser, only_slices=True))
        except Exception:  # pglast raises ParseError or its scanner's own errors
            continue
    return None


def _sqlparse_statements(text: str) -> list[Statement]:
    import sqlparse

    statements: list[Statement] = []
    offset = 0
    for chunk in sqlparse.split(text, strip_semicolon=False):
        found = text.find(chunk, offset) if chunk else -1
        if found < 0:
            continue
        stripped = chunk.strip()
        if stripped and not _only_comments(stripped):
            lead = len(chunk) - len(chunk.lstrip())
            start = found + lead
            body = stripped.rstrip(";").rstrip()
            statements.append(Statement(start, start + len(body), body))
        offset = found + len(chunk)
    return statements


def _only_comments(statement: str) -> bool:
    return all(not line.strip() or line.strip().startswith("--")
               for line in statement.splitlines())


def statement_at(statements: list[Statement], offset: int) -> int | None:
    """Index of the statement that holds character ``offset`` (or the last one before it)."""
    found: int | None = None
    for index, statement in enumerate(statements):
        if statement.start <= offset:
            found = index
        else:
            break
    return found
