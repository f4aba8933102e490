"""The fixes of squawk's rules, group B (CAL038, CAL039, CAL041, CAL042, CAL043): each
rule's ``example`` gets a fix; applied to the file's text, the result parses and the
rule no longer fires on it — and the fixed file means what the fix's title says."""

from __future__ import annotations

from pathlib import Path

import pytest

from calctl.config import MigrateSettings
from calctl.sql.extract.core import load_parser
from calctl.sql.rules import rule_by_code
from calctl.sql.rules.statement import (
    Edit,
    Finding,
    StatementRule,
    apply_edits,
    statement_findings,
)
from calctl.sql.runtime import analyse_directory, lint_directory

FIXED = {  # code → what the example becomes
    "CAL038": "CREATE TABLE accounts (id bigint PRIMARY KEY);\n",
    "CAL039": "CREATE TABLE plans (id bigint PRIMARY KEY, seats bigint);\n",
    "CAL041": ("-- calctl: no-transaction\n"
               "CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email ON accounts (email);\n"),
    "CAL042": "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n",
    "CAL043": "CREATE TABLE events (id bigint PRIMARY KEY, at timestamptz NOT NULL);\n",
}


def findings(code: str, files: dict[str, str], tmp_path: Path) -> list[Finding]:
    """What rule ``code`` finds in ``files`` (a migration directory), fixes included."""
    from calctl.sql.rules import RuleContext

    rule = rule_by_code(code)
    assert rule is not None and issubclass(rule, StatementRule)
    root = tmp_path / "migrations"
    root.mkdir(exist_ok=True)
    for old in root.iterdir():
        old.unlink()
    for name, sql in files.items():
        (root / name).write_text(sql, encoding="utf-8")
    result = analyse_directory(root, MigrateSettings(), cache_dir=tmp_path / "cache")
    ctx = RuleContext(result.files, result.analyses, result.resolution, result.ordering,
                      result.default_schema)
    return [finding for _, _, _, finding in statement_findings(ctx, [rule()])]


@pytest.mark.parametrize("code", sorted(FIXED))
def test_fix_of_the_example(code: str, tmp_path: Path) -> None:
    rule = rule_by_code(code)
    assert rule is not None
    found = findings(code, {"001_example.sql": rule.example}, tmp_path)
    assert len(found) == 1 and found[0].fix and found[0].fix_title
    fixed = apply_edits(rule.example, found[0].fix)
    assert fixed == FIXED[code]
    load_parser().parse_sql_json(fixed)  # raises on a syntax error
    assert findings(code, {"001_example.sql": fixed}, tmp_path) == []
    report = lint_directory(tmp_path / "migrations", MigrateSettings(),
                            cache_dir=tmp_path / "cache")
    assert code not in {p.code for p in report.problems}


CASES = [  # (code, file, the file once every fix is applied)
    ("CAL038", "CREATE TABLE t (a int, b INTEGER, c serial, d pg_catalog.int4, e int[]);\n"
               "ALTER TABLE t ADD COLUMN f int4, ALTER COLUMN a TYPE integer;\n",
     "CREATE TABLE t (a bigint, b bigint, c bigserial, d bigint, e bigint[]);\n"
     "ALTER TABLE t ADD COLUMN f bigint, ALTER COLUMN a TYPE bigint;\n"),
    ("CAL039", "CREATE TABLE t (a smallint, b int2, c smallserial, d serial2);\n",
     "CREATE TABLE t (a bigint, b bigint, c bigserial, d bigserial);\n"),
    ("CAL042", "CREATE TABLE t (a varchar(10), b character varying (20)[], c VARCHAR(3));\n",
     "CREATE TABLE t (a text, b text[], c text);\n"),
    ("CAL043", "CREATE TABLE t (a timestamp, b timestamp(3) without time zone, c TIMESTAMP (6));\n"
               "ALTER TABLE t ALTER COLUMN a TYPE timestamp WITHOUT TIME ZONE;\n",
     "CREATE TABLE t (a timestamptz, b timestamptz(3), c timestamptz(6));\n"
     "ALTER TABLE t ALTER COLUMN a TYPE timestamptz;\n"),
    ("CAL041", "-- calctl: no-transaction\n"
               "CREATE TABLE t (id bigint);\nCREATE UNIQUE INDEX i ON t (id);\n"
               "DROP INDEX CONCURRENTLY j;\nDROP TABLE old;\nDROP TYPE mood;\n"
               "ALTER TABLE t ADD COLUMN c bigint, DROP COLUMN \"D\",\n"
               "  DROP CONSTRAINT k, ADD d text;\n",
     "-- calctl: no-transaction\n"
     "CREATE TABLE IF NOT EXISTS t (id bigint);\nCREATE UNIQUE INDEX IF NOT EXISTS i ON t (id);\n"
     "DROP INDEX CONCURRENTLY IF EXISTS j;\nDROP TABLE IF EXISTS old;\nDROP TYPE IF EXISTS mood;\n"
     "ALTER TABLE t ADD COLUMN IF NOT EXISTS c bigint, DROP COLUMN IF EXISTS \"D\",\n"
     "  DROP CONSTRAINT IF EXISTS k, ADD IF NOT EXISTS d text;\n"),
]


@pytest.mark.parametrize(("code", "sql", "fixed"), CASES, ids=[c for c, _, _ in CASES])
def test_every_fix_of_a_file(code: str, sql: str, fixed: str, tmp_path: Path) -> None:
    found = findings(code, {"001_t.sql": sql}, tmp_path)
    assert found and all(f.fix for f in found)
    edits: list[Edit] = [edit for f in found for edit in f.fix]
    assert apply_edits(sql, edits) == fixed
    load_parser().parse_sql_json(fixed)
    assert findings(code, {"001_t.sql": fixed}, tmp_path) == []


def test_no_fix_when_the_text_was_rendered(tmp_path: Path) -> None:
    """A template placeholder shifts offsets: the finding stays, without a fix."""
    found = findings("CAL038", {"001_t.sql": "CREATE TABLE {{ schema }}.t (a int);\n"},
                     tmp_path)
    assert found and not any(f.fix for f in found)


def test_apply_edits_keeps_the_order_of_insertions_and_refuses_overlaps() -> None:
    text = "abcdef"
    assert apply_edits(text, [Edit(3, 3, "X"), Edit(3, 3, "Y"), Edit(0, 1, "A")]) == "AbcXYdef"
    with pytest.raises(ValueError):
        apply_edits(text, [Edit(0, 3, ""), Edit(2, 4, "")])
