"""Statements of a migration file with their character offsets in the file.

The offsets are what lets a server error position (counted in characters from
the start of the text the server received) be turned back into a line and
column of the file. The splitting is :mod:`calctl.sql.split`'s, the one the
analysis uses too.
"""

from __future__ import annotations

from calctl.sql.split import SplitText, Statement, split

__all__ = ["SplitText", "Statement", "split", "split_with_offsets", "statement_at"]


def split_with_offsets(text: str) -> list[Statement]:
    """Every statement of ``text`` (comments and blank space between them dropped),
    including any the parser rejects."""
    return split(text).statements


def statement_at(statements: list[Statement], offset: int) -> int | None:
    """Index of the statement that holds character ``offset`` (or the last one before it)."""
    found: int | None = None
    for index, statement in enumerate(statements):
        if statement.start <= offset:
            found = index
        else:
            break
    return found
