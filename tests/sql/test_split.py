"""The one statement splitter: its pieces account for every non-comment character."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from calctl.sql.split import _filler_end, pieces, split
from support import corpus


def _covered(text: str, ranges: list[tuple[int, int]]) -> bool:
    """Everything outside ``ranges`` is white space, ``;`` or comments."""
    at = 0
    for start, end in ranges:
        if _filler_end(text, at, start) != start:
            return False
        at = end
    return _filler_end(text, at, len(text)) == len(text)


def test_a_statement_the_parser_rejects_is_a_piece_not_dropped() -> None:
    text = "CREATE TABLE a (id int);\nSELEC 2;\n"
    parsed = split(text)
    assert [s.text for s in parsed.statements] == ["CREATE TABLE a (id int)", "SELEC 2"]
    assert parsed.error is not None and not parsed.error.uncovered
    assert text[parsed.error.offset:].startswith("SELEC")


def test_scanner_pieces_respect_quotes_comments_rules_and_atomic_bodies() -> None:
    text = ("SELECT E'it\\'s; here' /* a /* nested; */ ; */;\n"
            "CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2);\n"
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true "
            "THEN 1 END; SELECT 2; END;\n"
            "SELEC 3; -- trailing ; comment\n"
            "SELECT $q$ ; $q$")
    ranges, uncovered = pieces(text)
    got = [text[a:b] for a, b in ranges]
    assert uncovered is None
    assert got[0] == "SELECT E'it\\'s; here'"
    assert got[1].endswith("(SELECT 1; SELECT 2)")
    assert got[2].endswith("SELECT 2; END")
    assert got[3:] == ["SELEC 3", "SELECT $q$ ; $q$"]


def test_an_unterminated_quote_swallows_the_rest_as_postgres_reads_it() -> None:
    text = "SELECT 1;\nSELECT 'open;\nSELECT 2;\n"
    parsed = split(text)
    assert [s.text for s in parsed.statements] == ["SELECT 1", "SELECT 'open;\nSELECT 2;"]
    assert parsed.error is not None and text[parsed.error.offset] == "'"


def test_parsed_statements_keep_character_offsets_and_heads() -> None:
    text = "-- é\nBEGIN;\nCREATE TABLE é (a int); COMMIT AND CHAIN;\n"
    parsed = split(text)
    assert parsed.error is None
    assert [text[s.start:s.end] for s in parsed.statements] == [
        "BEGIN", "CREATE TABLE é (a int)", "COMMIT AND CHAIN"]
    assert [(h.node, h.kind, h.chain) for h in parsed.heads] == [
        ("TransactionStmt", "TRANS_STMT_BEGIN", False), ("", "", False),
        ("TransactionStmt", "TRANS_STMT_COMMIT", True)]


_PART = st.sampled_from([
    "SELECT 1", "SELEC 2", "select 'a;b'", "select $$;$$", "select E'\\';'", "-- c ; c\n",
    "/* x /* y ; */ */", "create rule r as on insert to t do (select 1; select 2)",
    "select (1", "é", "select \"q;\"", "\n", " ", ";", "'", "$$", "/*",
])


@settings(max_examples=300, deadline=None)
@given(st.lists(_PART, max_size=12))
def test_pieces_always_cover_the_text(parts: list[str]) -> None:
    text = " ".join(parts)
    ranges, uncovered = pieces(text)
    assert uncovered is None
    assert _covered(text, ranges)
    assert all(a < b for a, b in ranges)
    assert all(e1 <= s2 for (_, e1), (s2, _) in pairwise(ranges))
    parsed = split(text)
    assert parsed.error is None or not parsed.error.uncovered
    assert _covered(text, [(s.start, s.end) for s in parsed.statements])


def test_pg_regression_files_split_whole() -> None:
    for path in sorted(corpus("pg-regression").glob("*.sql")):
        text = path.read_bytes().decode("utf-8", "replace")
        ranges, uncovered = pieces(text)
        assert uncovered is None, path.name
        assert _covered(text, ranges), path.name
