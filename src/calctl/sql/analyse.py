"""One migration file's analysis: render, parse statement by statement, extract, observe.

The text is rendered (templates, :mod:`calctl.sql.render`), psql meta-commands are
blanked, and the statements' parse trees are walked by the extractor
(:mod:`calctl.sql.extract`), which records facts and observations. Text pglast
rejects is parsed statement by statement, and the statements it rejects fall back to
:mod:`calctl.sql.fallback` (sqlparse tokens), flagged approximate. Directives
(:mod:`calctl.sql.directives`) decide which statements are silenced and whether the
file runs in a transaction. The observations become notes through the rule that owns
each kind (:func:`calctl.sql.rules.notes_of`): this module says what is there, the
rules say what is wrong with it.

Memory: a file of up to :data:`STREAM_ABOVE` characters is parsed in one call (the
fastest way for the usual migration); a larger one (seed data: thousands of
``INSERT … VALUES``) is split by the parser first and each statement is parsed,
walked and dropped in turn, so what is held grows with the largest statement, not the
file. Both ways give the same analysis (tests/sql/test_analyse_stream.py).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from typing import Any

from calctl.sql.directives import ignores, marked_no_transaction, statement_ignores
from calctl.sql.extract import HANDLERS, Extractor, Lines, load_parser, loads
from calctl.sql.extract.core import LEADING
from calctl.sql.extract.prisma import removed_labels
from calctl.sql.facts import AnalysisInput, FileAnalysis, Note, Span, as_fact, summarise
from calctl.sql.facts import PlainFact as Fact  # the extractor's facts, plain tuples
from calctl.sql.observations import (
    ENUM_VALUE_USED,
    NON_TRANSACTIONAL,
    PARSE_ERROR,
    UNRENDERED_TEMPLATE,
    Observation,
)
from calctl.sql.render import blank_psql_meta, render

Node = dict[str, Any]

_SPACE = " \t\n\r\f\v"  # PostgreSQL's white space (scan.l)
_EXPECTED = (KeyError, TypeError, AttributeError, IndexError, ValueError)

# Characters above which a file is parsed one statement at a time (see the module doc).
STREAM_ABOVE = 1 << 20


def analyse(job: AnalysisInput) -> FileAnalysis:
    """Extract the facts of one migration file's (up) SQL text. Never raises on bad SQL.
    Reads nothing but ``job`` (the parse cache keys on it)."""
    text, autocommit, search_path, defines = job
    return analyse_text(text, autocommit, search_path, dict(defines))


def analyse_text(text: str, autocommit: bool, search_path: Sequence[str],
                 defines: dict[str, str],
                 stream_above: int = STREAM_ABOVE) -> FileAnalysis:
    """:func:`analyse` on plain arguments; ``stream_above``: see :data:`STREAM_ABOVE`."""
    parser = load_parser()
    observations: list[Observation] = []
    # render() looks for "{{" and "${": a text without "{" (most) has neither, and
    # that one-character search is ~20x cheaper than those two
    rendered, unrendered = render(text, defines) if "{" in text else (text, [])
    approximate = False
    if unrendered:
        line, name = unrendered[0]
        approximate = True
        observations.append(Observation(UNRENDERED_TEMPLATE, line, 1, name))
    if "\\" in rendered:
        rendered = blank_psql_meta(rendered)
    ext = Extractor(rendered, search_path)
    file_ignores, ignore_lines = ignores(text)
    data = ext.data
    extra_facts: list[Fact] = []
    stmts: Iterator[Node] | list[Node]
    try:
        if len(rendered) > stream_above:
            stmts = _streamed(parser, rendered, ext.lines, observations)
        else:
            stmts = loads(parser.parse_sql_json(rendered)).get("stmts") or []
    except parser.ParseError:
        # parse statement by statement: only the statements PostgreSQL rejects are
        # read approximately, the rest of the file keeps exact facts
        approximate = True
        stmts = _parse_pieces(rendered, data, ext.lines, observations, extra_facts,
                              search_path)
    spans: list[Span] = []
    prev_last = 0
    newlines = ext.lines.newlines
    leading = LEADING.match
    handlers = HANDLERS
    count = 0
    for raw in stmts:
        count += 1
        base = raw.get("_base", 0)
        start = base + raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0) or (raw.get("_end", len(data)) - start)
        lead = leading(data, start)
        first = lead.end() if lead else start
        # Lines.line(), inlined (offsets here are never negative)
        fallback_line = bisect_left(newlines, first) + 1
        ext.statement_at(base, start, start + length, fallback_line)
        last = bisect_left(newlines, max(start + length - 1, start)) + 1
        # comments above a statement (after the previous one's last line) belong to it
        codes = statement_ignores(ignore_lines, prev_last, last) if ignore_lines else ()
        prev_last = last
        # Span(fallback_line, last, codes) without its Python-level __new__
        spans.append(tuple.__new__(Span, (fallback_line, last, codes)))
        for key, value in (raw.get("stmt") or {}).items():
            try:
                # ext.statement(), inlined
                handler = handlers.get(key)
                if handler is not None:
                    handler(ext, value)
                else:
                    ext.statement(key, value)
            except _EXPECTED:
                # an unexpected tree shape must not stop the analysis of the file
                approximate = True
    ext.base = 0
    ext.facts.extend(extra_facts)
    if "will be removed" in text:
        removed_labels(ext, text)
    observations.extend(ext.observations)
    marked = marked_no_transaction(text, autocommit)
    # A file's own BEGIN/COMMIT does not make it non-transactional: the applier drops
    # them and runs the file in its single transaction, which is what its author meant.
    non_tx = [Observation(NON_TRANSACTIONAL, line, 1, what) for line, what in ext.non_tx]
    non_tx.extend(_enum_values_used(ext))
    transaction = not (marked or non_tx)
    if not marked:
        observations.extend(non_tx)
    facts = tuple(map(as_fact, ext.facts))
    return FileAnalysis(facts, _notes(observations), tuple(spans), file_ignores, approximate,
                        transaction, count, summarise(facts))


def _enum_values_used(ext: Extractor) -> list[Observation]:
    """ALTER TYPE … ADD VALUE: the new value cannot be used in the same transaction."""
    found = []
    data = ext.data
    for end, value, line in ext.enum_values:
        rest = data[end:]
        needle = ("'" + value.replace("'", "''") + "'").encode()
        if needle in rest:
            used = ext.lines.line(end + rest.index(needle))
            found.append(Observation(ENUM_VALUE_USED, line, 1, value, used))
    return found


def _notes(observations: list[Observation]) -> tuple[Note, ...]:
    if not observations:  # most files: the rules are not even imported
        return ()
    from calctl.sql.rules import notes_of

    return notes_of(observations)


def _streamed(parser: Any, text: str, lines: Lines,
              observations: list[Observation]) -> Iterator[Node]:
    """The raw statements of ``text`` one at a time, each parsed alone and positioned as
    in a parse of the whole text. Raises the parser's ParseError (before yielding) when
    the text does not parse."""
    bounds = _raw_bounds(text, parser.split(text, with_parser=True, only_slices=True))
    return _parse_each(parser, text, bounds, lines, observations)


def _raw_bounds(text: str, slices: Sequence[slice]) -> list[tuple[int, int]]:
    """PostgreSQL's own statement ranges (``stmt_location``, and the ``;`` or the end of
    the text) from pglast's split, which strips the white space around each: a
    statement starts right after the previous ``;`` and ends at its own."""
    size = len(text)
    bounds = []
    for piece in slices:
        start = piece.start
        while start and text[start - 1] in _SPACE:
            start -= 1
        end = piece.stop
        while end < size and text[end] in _SPACE:
            end += 1
        if end < size and text[end] != ";":
            end = piece.stop  # (never seen: pglast splits at the ';')
        bounds.append((start, end))
    return bounds


def _parse_each(parser: Any, text: str, bounds: list[tuple[int, int]], lines: Lines,
                observations: list[Observation]) -> Iterator[Node]:
    ascii_only = len(lines.data) == len(text)
    char_at = byte_at = 0  # running character → byte offset (starts only grow)
    failed: list[tuple[int, int, str]] = []
    for start, end in bounds:
        piece = text[start:end]
        if ascii_only:
            base, end_byte = start, end
        else:
            byte_at += len(text[char_at:start].encode("utf-8"))
            char_at = start
            base = byte_at
            end_byte = base + len(piece.encode("utf-8"))
        try:
            tree = _skeleton(parser, piece) or loads(parser.parse_sql_json(piece))
        except parser.ParseError as exc:  # (never seen: the whole text parsed)
            failed.append((*lines.pos(base), _message(exc)))
            continue
        for raw in tree.get("stmts") or ():
            raw["_base"] = base
            raw["_end"] = end_byte
            yield raw
    _parse_failures(failed, observations)


# Seed data: INSERT … VALUES (…), (…) … whose rows after the first hold nothing but
# constants (numbers, plain '…' strings, true/false/null, and + - * / between them).
# Those rows add nothing to the analysis (none names an object), so only the statement
# up to the end of its first row is parsed, converted and walked: the same tree less
# the rows, at the same positions (the prefix starts where the statement does).
# The checks refuse everything else (comments, E'…' and $$…$$ strings, casts, names,
# calls): such a statement is parsed whole.
_VALUES = re.compile(r"\bvalues\s*\(", re.I)
_FIRST_ROW = re.compile(
    r"values\s*\((?:[^()'\-/$&\w]|\w++(?!')|-(?!-)|/(?!\*)|'[^']*')*\)", re.I)
# the rows after the first, each string replaced by "\0"
_CONSTANT_ROWS = re.compile(
    r"\s*,(?:[\s\d.,()+*\0]++|-(?!-)|/(?!\*)|[eE](?=[-+\d])|true|false|null)*+", re.I)
_SKELETON_ABOVE = 400  # characters: below, parsing the whole statement costs no more


def _skeleton(parser: Any, piece: str) -> Any:
    """The parse tree of an INSERT … VALUES statement whose rows after the first are all
    constants, from its text up to the end of the first row; None for any other."""
    if len(piece) < _SKELETON_ABOVE:
        return None
    found = _VALUES.search(piece)
    first = _FIRST_ROW.match(piece, found.start()) if found else None
    if first is None:
        return None
    # outside the strings: standard strings ('' inside is two strings side by side)
    # split at every quote; a prefixed one (E'…', U&'…') is refused by the letter or
    # & before its "\0"
    code = "\0".join(piece[first.end():].split("'")[::2])
    if _CONSTANT_ROWS.fullmatch(code) is None:
        return None
    try:
        tree = loads(parser.parse_sql_json(piece[:first.end()]))
    except parser.ParseError:
        return None
    # what the prefix must be for the rows to have been its continuation
    stmts: list[Node] = tree.get("stmts") or []
    insert = stmts[0].get("stmt", {}).get("InsertStmt") if len(stmts) == 1 else None
    select = (insert.get("selectStmt") or {}).get("SelectStmt") if insert else None
    if not select or len(select.get("valuesLists") or ()) != 1 or len(select) != 3:
        return None
    return tree


def _message(exc: BaseException) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def _parse_failures(failed: list[tuple[int, int, str]],
                    observations: list[Observation]) -> None:
    if failed:
        line, col, message = failed[0]
        observations.append(Observation(PARSE_ERROR, line, col, message,
                                        more=len(failed) - 1))


def split_statements(text: str) -> list[tuple[int, int]]:
    """(start, end) character ranges of the statements of ``text`` (the one splitter,
    :func:`calctl.sql.split.pieces`: PostgreSQL's scanner, statements it cannot parse
    included)."""
    from calctl.sql.split import pieces

    return pieces(text)[0]


def _parse_pieces(text: str, data: bytes, lines: Lines, observations: list[Observation],
                  extra: list[Fact], search_path: Sequence[str]) -> Iterator[Node]:
    """The statements of a text the parser rejects, from the scanner's split: those that
    parse, positioned as in the whole text; the others' facts from their tokens (into
    ``extra``) and the first failure observed."""
    parser = load_parser()
    from calctl.sql.fallback import analyse_tokens
    from calctl.sql.split import pieces  # only files the parser rejects come here

    ascii_only = len(data) == len(text)
    failed: list[tuple[int, int, str]] = []
    ranges, uncovered = pieces(text)
    if uncovered is not None:  # the splitter's own check: never seen, but never silent
        line, col = lines.pos(len(text[:uncovered].encode("utf-8")))
        failed.append((line, col, "text the statement splitter cannot account for"))
    char_at = byte_at = 0
    for start, end in ranges:
        piece = text[start:end]
        if ascii_only:
            base = start
        else:
            byte_at += len(text[char_at:start].encode("utf-8"))
            char_at = start
            base = byte_at
        try:
            sub = loads(parser.parse_sql_json(piece)).get("stmts") or []
        except parser.ParseError as exc:
            message = _message(exc)
            # pglast's error position counts characters (PostgreSQL's cursor position)
            offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            if not ascii_only:
                offset = len(piece[:offset].encode("utf-8"))
            line, col = lines.pos(base + offset)
            failed.append((line, col, message))
            first_line = lines.line(base)
            facts, _ = analyse_tokens(piece, search_path)
            extra.extend((*f[:3], f[3] + first_line - 1, *f[4:]) for f in facts)
            continue
        end_byte = base + len(piece.encode("utf-8")) if not ascii_only else end
        for raw in sub:
            raw["_base"] = base
            raw["_end"] = end_byte
            yield raw
    _parse_failures(failed, observations)


def analyse_json(text: str) -> Any:
    """The raw pglast JSON tree (for debugging)."""
    return json.loads(load_parser().parse_sql_json(text))
