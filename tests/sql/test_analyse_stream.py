"""Large files are parsed statement by statement (and seed-data rows of constants are
not parsed at all): the analysis must be the one a whole-text parse gives."""

from __future__ import annotations

from calctl.sql.analyse import STREAM_ABOVE, analyse, analyse_text
from calctl.sql.facts import AnalysisInput
from support import corpus

PAD = ", (" + ", ".join(["1", "'x'", "-2.5e3", "null", "TRUE"] * 30) + ")"
SEED_ROWS = [
    "INSERT INTO t (a, b) VALUES (1, 'x')" + PAD * 3,                    # skeleton
    "INSERT INTO t (a, b) VALUES (nextval('s'), 'x')" + PAD,             # first row: a call
    "INSERT INTO t (a, b) VALUES (1, 'x')" + PAD + ", (f(1), 2)",         # a call later
    "INSERT INTO t (a, b) VALUES (1, 'x')" + PAD + ", ('1'::mood, 2)",    # a cast later
    "INSERT INTO t (a, b) VALUES (1, 'x')" + PAD + ", (E'\\'', g(1), '1')",
    "INSERT INTO t (a, b) VALUES (1, 'x')" + PAD + " -- ' \n, (h(1)) -- '\n",
    "INSERT INTO t (a, b) VALUES (1, 'it''s')" + PAD + " ON CONFLICT (a) DO NOTHING",
    "INSERT INTO t (a, b) VALUES (1, $$)$$)" + PAD,
    "WITH v AS (SELECT 1) INSERT INTO t (a, b) VALUES (1, 'x')" + PAD,
    "INSERT INTO t SELECT * FROM (VALUES (1, 'x')" + PAD + ") v",
    "CREATE TABLE t (a int, b text);\nINSERT INTO u VALUES (date '2020-01-01')" + PAD,
]


def both_ways(text: str, autocommit: bool = False) -> None:
    whole = analyse_text(text, autocommit, ("public",), {}, stream_above=len(text) + 1)
    streamed = analyse_text(text, autocommit, ("public",), {}, stream_above=-1)
    assert streamed == whole


def test_seed_data_statements_analyse_as_when_parsed_whole() -> None:
    for statement in SEED_ROWS:
        both_ways(statement + ";\n")
        both_ways("CREATE TABLE t (a int, b text);\n" + statement)  # last, no ';'
    both_ways(";\n".join(SEED_ROWS) + ";\n -- trailing comment\n")
    both_ways("SELECT 1;;\n\n  ;SELECT 'é' /* ü */ ;\n" + ";\n".join(SEED_ROWS))


def test_a_large_file_is_streamed_with_the_same_analysis() -> None:
    text = "CREATE TABLE t (a int, b text);\n"
    while len(text) <= STREAM_ABOVE:
        text += ";\n".join(SEED_ROWS[:2]) + ";\nDROP TABLE t;\n"
    streamed = analyse(AnalysisInput(text))
    assert streamed.statements > 500 and streamed.notes
    assert streamed == analyse_text(text, False, ("public",), {}, stream_above=len(text) + 1)


def test_every_corpus_file_analyses_the_same_streamed() -> None:
    for name in ("calos-agent-router", "pg-regression"):
        for path in sorted(corpus(name).glob("*.sql")):
            both_ways(path.read_bytes().decode("utf-8", "replace"),
                      ".autocommit." in path.name)
