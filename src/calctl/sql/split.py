"""The one statement splitter: where each statement of a SQL text starts and ends.

The analysis (``migrate order``/``lint``, for text the parser rejects) and the
migration engine (for every file it runs) both split here, so what ``migrate
order`` reads is what ``migrate apply`` sends.

When PostgreSQL's parser (pglast) accepts the text, its statement boundaries
are used, and each statement that may be transaction control is parsed alone
for its ``TransactionStmt`` kind. Otherwise the text is split
from PostgreSQL's own scanner tokens at top-level semicolons (parentheses and
``BEGIN ATOMIC … END`` bodies respected): a statement with a syntax error is a
piece like any other, never dropped. (libpg_query's scanner splitter drops a
statement that starts with an unknown word: ``SELEC 2;`` vanished, and the
file was applied and recorded without it.)

Either way the split proves itself: everything outside the pieces must be white
space, semicolons or comments. When it is not, :attr:`SplitText.error` names the
first such character and the text must not be run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from calctl.sql.fastjson import FastJSONError, loads


@dataclass(frozen=True)
class Statement:
    """One statement: its text and ``[start, end)`` character offsets in the whole text."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Head:
    """Whether a statement is transaction control: ``node`` is ``TransactionStmt`` with
    its kind (``TRANS_STMT_COMMIT``…) and whether it says AND CHAIN; for a statement
    that cannot be one (by its first word) ``node`` is empty."""

    node: str
    kind: str = ""
    chain: bool = False


@dataclass(frozen=True)
class Rejection:
    """Why the text cannot be run: the parser's message at a character offset."""

    offset: int
    message: str
    uncovered: bool = False  # the splitter's own coverage check failed, not the parser


@dataclass(frozen=True)
class SplitText:
    statements: list[Statement]
    heads: list[Head]  # one per statement when the parser accepted the text, else empty
    error: Rejection | None = None


_COMMENT_TOKENS = frozenset({"C_COMMENT", "SQL_COMMENT"})


def split(text: str) -> SplitText:
    """The statements of ``text``, each marked when it is transaction control."""
    from calctl.sql.pgparser import parser as load_parser

    parser = load_parser()
    try:
        slices = parser.split(text, with_parser=True, only_slices=True)
    except parser.ParseError as exc:
        ranges, uncovered = pieces(text)
        found = [Statement(a, b, text[a:b]) for a, b in ranges]
        if uncovered is not None:
            return SplitText(found, [], _uncovered(uncovered))
        return SplitText(found, [], Rejection(_error_offset(exc, text), _message(exc)))
    statements: list[Statement] = []
    heads: list[Head] = []
    covered = 0  # character offset up to which the text is accounted for
    for piece in slices:
        gap = _filler_end(text, covered, piece.start)
        if gap < piece.start:
            return SplitText(statements, heads, _uncovered(gap))
        covered = piece.stop
        start = _filler_end(text, piece.start, piece.stop)  # leading comments
        if start >= piece.stop:
            continue
        body = text[start:piece.stop]
        statements.append(Statement(start, piece.stop, body))
        heads.append(_head(parser, body) if _CONTROL_WORD.match(body) else _OTHER)
    tail = _filler_end(text, covered, len(text))
    if tail < len(text):
        return SplitText(statements, heads, _uncovered(tail))
    return SplitText(statements, heads)


# The first word of every statement PostgreSQL's grammar makes a TransactionStmt
# (keywords cannot be quoted). Only statements starting so are parsed again, alone,
# for their kind: parsing every file to a JSON tree costs ten times the split.
_CONTROL_WORD = re.compile(
    r"(?:abort|begin|commit|end|prepare|release|rollback|savepoint|start)\b", re.I)
_OTHER = Head("")


def _head(parser: Any, statement: str) -> Head:
    tree = _loads(parser.parse_sql_json(statement))
    node = ((tree.get("stmts") or [{}])[0]).get("stmt") or {}
    name = next(iter(node), "")
    if name != "TransactionStmt":
        return Head(name)
    body = node[name] or {}
    return Head(name, str(body.get("kind", "")), bool(body.get("chain", False)))


def _loads(json_text: str) -> Any:
    try:
        return loads(json_text)
    except FastJSONError:  # an integer beyond 64 bits: the json module reads it
        import json

        return json.loads(json_text)


def pieces(text: str) -> tuple[list[tuple[int, int]], int | None]:
    """(start, end) character ranges of the statements of ``text``, from scanner tokens,
    whether or not they parse; and the first character no range accounts for (None
    when the ranges, white space, semicolons and comments make up the whole text)."""
    tokens, broken = _tokens(text)
    ranges: list[tuple[int, int]] = []
    start = -1  # first token of the statement being read
    end = 0
    depth = 0  # parentheses: CREATE RULE … DO (a; b)
    blocks = 0  # BEGIN ATOMIC … END, and CASE … END inside one
    previous = ""
    for first, last, name in tokens:
        if name in _COMMENT_TOKENS:
            continue
        if name == "ASCII_59" and not depth and not blocks:
            if start >= 0:
                ranges.append((start, end))
            start = -1
            previous = name
            continue
        if start < 0:
            start = first
        end = last + 1
        if name == "ASCII_40":
            depth += 1
        elif name == "ASCII_41":
            depth = max(0, depth - 1)
        elif (name == "ATOMIC" and previous == "BEGIN_P") or (blocks and name == "CASE"):
            blocks += 1
        elif blocks and name == "END_P":
            blocks -= 1
        previous = name
    if broken is not None:
        # the scanner stopped (an unterminated quote or comment): PostgreSQL reads the
        # rest of the text as part of the statement in progress
        if start < 0:
            start = broken
        end = len(text.rstrip())
    if start >= 0:
        ranges.append((start, max(end, start + 1)))
    return ranges, _first_uncovered(text, ranges)


def _tokens(text: str) -> tuple[list[tuple[int, int, str]], int | None]:
    """Scanner tokens as (first, last, name) character offsets (``last`` inclusive), and
    the offset where the scanner gave up, if it did (tokens before it are kept)."""
    from calctl.sql.pgparser import parser as load_parser

    parser = load_parser()
    limit = len(text)
    for _ in range(4):
        try:
            scanned = parser.scan(text[:limit])
        except parser.ParseError as exc:
            limit = min(limit - 1, _error_offset(exc, text[:limit]))
            if limit <= 0:
                break
            continue
        return [(t.start, t.end, t.name) for t in scanned], (None if limit == len(text)
                                                              else limit)
    return [], 0


def _first_uncovered(text: str, ranges: list[tuple[int, int]]) -> int | None:
    covered = 0
    for start, end in ranges:
        gap = _filler_end(text, covered, start)
        if gap < start:
            return gap
        covered = end
    tail = _filler_end(text, covered, len(text))
    return tail if tail < len(text) else None


def _filler_end(text: str, i: int, end: int) -> int:
    """The first offset in ``[i, end)`` that is not white space, ``;`` or a comment."""
    while i < end:
        char = text[i]
        if char.isspace() or char == ";":
            i += 1
        elif text.startswith("--", i):
            newline = text.find("\n", i, end)
            i = end if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            i = _comment_end(text, i, end)
        else:
            return i
    return end


def _comment_end(text: str, i: int, end: int) -> int:
    """End of the (possibly nested, as PostgreSQL allows) block comment starting at ``i``."""
    level = 0
    while i < end:
        close = text.find("*/", i, end)
        opened = text.find("/*", i, end)
        if 0 <= opened < close or (close < 0 <= opened):
            level += 1
            i = opened + 2
        elif close >= 0:
            level -= 1
            i = close + 2
            if not level:
                return i
        else:
            return end
    return end


def _error_offset(exc: Exception, text: str) -> int:
    """The character offset a pglast ParseError points at (the end when it has none)."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    offset = args[1] if len(args) > 1 and isinstance(args[1], int) else None
    if offset is None:
        return len(text.rstrip())
    return max(0, min(offset, len(text)))


def _message(exc: Exception) -> str:
    args: tuple[Any, ...] = getattr(exc, "args", ())
    return str(args[0]) if args else str(exc)


def _uncovered(offset: int) -> Rejection:
    return Rejection(offset, "calctl's statement splitter cannot account for the text here",
                     uncovered=True)
