"""Statement offsets, error positions and the non-transactional check (no database)."""

from __future__ import annotations

from calctl.migrate.engine import runnable_statements
from calctl.migrate.positions import first_code, location, server_position
from calctl.migrate.statements import split_with_offsets, statement_at
from calctl.migrate.transactions import outside_transaction_reason
from calctl.store.schema import checksum

TEXT = (
    "-- héader\n"
    "CREATE TABLE a (id int);\n"
    "\n"
    "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  RETURN 1; -- ü;\n"
    "END;\n"
    "$$;\n"
    "SELECT 'ü;' FROM a;\n"
)


def test_split_keeps_character_offsets_of_each_statement() -> None:
    statements = split_with_offsets(TEXT)
    assert [s.text.split()[0] for s in statements] == ["CREATE", "CREATE", "SELECT"]
    for s in statements:
        assert TEXT[s.start:s.end] == s.text
    third = statements[2]
    assert location(TEXT, third.start) == location(TEXT, TEXT.index("SELECT"))
    assert location(TEXT, third.start).line == 9
    assert statement_at(statements, TEXT.index("FROM a")) == 2


def test_split_falls_back_for_text_the_parser_rejects() -> None:
    text = "CREATE TABLE {{ .Name }} (id int);\nSELECT 1;\n"
    statements = split_with_offsets(text)
    assert len(statements) == 2
    assert statements[1].text.startswith("SELECT 1")
    assert location(text, statements[1].start).line == 2


def test_server_position_maps_to_line_and_character_column() -> None:
    text = "SELECT 1;\n  SELECT 'é', nope FROM x;\n"
    start = text.index("SELECT 'é'")
    # the server counts characters from the start of the statement it received, 1-based
    position = text.index("nope") - start + 1
    assert server_position(text, start, position) == location(text, text.index("nope"))
    assert location(text, text.index("nope")).line == 2
    assert location(text, text.index("nope")).column == 15


def test_first_code_skips_comments_and_blank_space() -> None:
    text = "  -- c\n /* x */\n  SELECT 1"
    assert text[first_code(text, 0, len(text)):].startswith("SELECT")


def test_transaction_control_is_dropped_but_plpgsql_bodies_kept() -> None:
    text = "BEGIN;\n" + TEXT + "COMMIT;\n"
    kept = runnable_statements(text)
    assert [s.text.split()[0] for s in kept] == ["CREATE", "CREATE", "SELECT"]
    assert "BEGIN\n  RETURN 1" in kept[1].text


def test_non_transactional_files_are_recognised() -> None:
    assert outside_transaction_reason("1_a.sql", "CREATE INDEX CONCURRENTLY i ON t (a);")
    assert outside_transaction_reason("1_a.sql", "create unique index\n concurrently i on t(a)")
    assert outside_transaction_reason("1_a.sql", "SELECT 1;\nVACUUM ANALYZE t;")
    assert outside_transaction_reason("1_a.sql", "-- calctl: no-transaction\nSELECT 1;")
    assert outside_transaction_reason("1_a.autocommit.sql", "SELECT 1;")
    assert outside_transaction_reason("1_a.sql", "SELECT 1;", plan_transaction=False)
    assert not outside_transaction_reason("1_a.sql", "-- CREATE INDEX CONCURRENTLY\nSELECT 1;")
    assert not outside_transaction_reason("1_a.sql", "CREATE INDEX i ON t (a);")
    assert not outside_transaction_reason("1_a.sql", "SELECT 'vacuum' AS word;")


def test_checksum_reads_crlf_as_lf() -> None:
    assert checksum("SELECT 1;\r\nSELECT 2;\r\n") == checksum("SELECT 1;\nSELECT 2;\n")
    assert checksum("SELECT 1;\n") != checksum("SELECT 2;\n")


def test_named_object_finds_the_name_a_positionless_error_gives() -> None:
    from calctl.migrate.positions import named_object

    text = "-- users\nCREATE TABLE o (\n  u int REFERENCES public.\"users\" (id)\n);"
    offset = named_object(text, 0, len(text), 'relation "users" does not exist')
    assert offset is not None and location(text, offset) == location(text, text.index('"users"'))
    assert named_object(text, 0, len(text), "division by zero") is None
