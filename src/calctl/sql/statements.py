"""One migration file as a list of parsed statements, for the rules that read statements.

The per-file analyser (:mod:`calctl.sql.analyse`) keeps only facts and observations, so
``migrate order`` stays fast; the safety rules of ``migrate lint`` (squawk's concerns:
locks, rewrites, robustness) need each statement's tree. :func:`parse_statements`
renders the text as the analyser does (templates, psql meta-commands blanked), parses
it with PostgreSQL's parser and returns :class:`Statement` records that know their
text and position. A file the parser rejects is parsed statement by statement: the
statements that parse are returned, the others are CAL006's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from calctl.sql.extract.core import Lines, load_parser, loads

Node = dict[str, Any]


@dataclass(frozen=True)
class Source:
    """The text statements were parsed from: the file's text after rendering."""

    text: str
    data: bytes
    lines: Lines
    exact: bool  # the text is the file's own (no template substitution changed offsets)
    _ascii: bool = field(default=True, repr=False)

    def char(self, byte_offset: int) -> int:
        """The character offset of a byte offset of :attr:`data`."""
        if self._ascii:
            return byte_offset
        return len(self.data[:byte_offset].decode("utf-8", errors="ignore"))

    def pos(self, byte_offset: int) -> tuple[int, int]:
        """(line, column), 1-based, of a byte offset; the column counts characters."""
        line, column = self.lines.pos(byte_offset)
        if self._ascii:
            return line, column
        start = self.lines.newlines[line - 2] + 1 if line > 1 else 0
        return line, len(self.data[start:byte_offset].decode("utf-8", errors="ignore")) + 1


@dataclass(frozen=True)
class Statement:
    """One parsed statement: its node type, tree and where it is."""

    index: int          # position among the file's parsed statements
    kind: str           # the node type: "IndexStmt", "AlterTableStmt", …
    node: Node          # the node's fields (pglast's JSON tree)
    base: int           # byte offset the parser's locations are relative to
    start: int          # byte offsets of the statement in the source
    end: int
    source: Source = field(repr=False)

    @property
    def text(self) -> str:
        return self.source.data[self.start:self.end].decode("utf-8", errors="replace")

    @property
    def line(self) -> int:
        return self.source.pos(self.start)[0]

    def pos(self, location: int | None = None) -> tuple[int, int]:
        """(line, column) of a ``location`` field of this statement's tree (its start
        when absent or -1, as the parser writes for "unknown")."""
        if location is None or location < 0:
            return self.source.pos(self.start)
        return self.source.pos(self.base + location)

    def char(self, location: int | None = None) -> int:
        """The character offset in the source's text of a ``location`` (or the start)."""
        if location is None or location < 0:
            return self.source.char(self.start)
        return self.source.char(self.base + location)

    @property
    def char_end(self) -> int:
        return self.source.char(self.end)


def parse_statements(text: str, defines: Mapping[str, str] | None = None,
                     ) -> tuple[Source, list[Statement]]:
    """The statements of a migration file's (up) text that PostgreSQL's parser accepts."""
    from calctl.sql.render import PSQL_META, render

    rendered = render(text, dict(defines or {}))[0] if "{" in text else text
    exact = rendered == text
    if "\\" in rendered:
        rendered = PSQL_META.sub(lambda m: " " * len(m.group(0)), rendered)
    data = rendered.encode("utf-8")
    source = Source(rendered, data, Lines(data), exact, rendered.isascii())
    parser = load_parser()
    try:
        raw = loads(parser.parse_sql_json(rendered)).get("stmts") or []
        pieces: list[tuple[int, Node]] = [(0, item) for item in raw]
    except parser.ParseError:
        pieces = list(_piecewise(parser, rendered, source))
    statements: list[Statement] = []
    for base, item in pieces:
        location = item.get("stmt_location", 0)
        # the last statement has no length: it runs to the end of its text
        length = item.get("stmt_len", 0) or (item.get("_end", len(data) - base) - location)
        end = base + location + length
        start = _skip_blank(data, base + location, end)
        for kind, node in (item.get("stmt") or {}).items():
            statements.append(Statement(len(statements), kind, node, base, start, end,
                                        source))
    return source, statements


def _piecewise(parser: Any, text: str, source: Source) -> list[tuple[int, Node]]:
    """The statements that parse, each parsed alone (their locations relative to it)."""
    from calctl.sql.split import pieces

    found: list[tuple[int, Node]] = []
    for start, end in pieces(text)[0]:
        piece = text[start:end]
        base = len(text[:start].encode("utf-8")) if not source._ascii else start
        try:
            parsed = loads(parser.parse_sql_json(piece)).get("stmts") or []
        except parser.ParseError:
            continue
        size = len(piece.encode("utf-8"))
        for item in parsed:
            item["_end"] = size
            found.append((base, item))
    return found


def _skip_blank(data: bytes, start: int, end: int) -> int:
    """The first byte of a statement after the blanks and comments the parser counts in."""
    i = start
    while i < end:
        byte = data[i]
        if byte in b" \t\r\n":
            i += 1
        elif data.startswith(b"--", i):
            newline = data.find(b"\n", i, end)
            i = end if newline < 0 else newline + 1
        elif data.startswith(b"/*", i):
            close = data.find(b"*/", i + 2, end)
            i = end if close < 0 else close + 2
        else:
            break
    return i if i < end else start

