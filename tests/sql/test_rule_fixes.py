"""The fixes statement rules offer (squawk's: CONCURRENTLY, NOT VALID + VALIDATE, a
lock_timeout…): applied to each rule's firing example with ``apply_edits``, the file
still parses and ``migrate lint`` no longer reports the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from calctl.config import MigrateSettings
from calctl.sql.extract.core import load_parser
from calctl.sql.rules import RULES, rule_by_code
from calctl.sql.rules.statement import (
    Edit,
    FileScope,
    Finding,
    StatementRule,
    _index,
    apply_edits,
)
from calctl.sql.runtime import lint_directory
from calctl.sql.statements import parse_statements

# rules that must offer a fix on their example (others may add theirs)
FIXING = {"CAL011", "CAL012", "CAL013", "CAL014", "CAL015", "CAL025", "CAL026"}


def findings(rule: type[StatementRule], text: str, *, transaction: bool = True,
             pg_version: int | None = None) -> list[Finding]:
    source, statements = parse_statements(text)
    scope = FileScope("001_example.sql", source, statements, transaction, pg_version)
    _index(scope)
    return list(rule().check_file(scope))


def lint_codes(text: str, tmp_path: Path) -> set[str]:
    root = tmp_path / "migrations"
    root.mkdir(parents=True, exist_ok=True)
    (root / "001_example.sql").write_text(text, encoding="utf-8")
    found = lint_directory(root, MigrateSettings(), cache_dir=tmp_path / "cache").problems
    return {p.code for p in found}


def test_apply_edits_keeps_order_and_rejects_overlaps() -> None:
    text = "DROP INDEX i;\n"
    edits = [Edit(0, 0, "-- a\n"), Edit(0, 0, "-- b\n"), Edit(10, 10, " CONCURRENTLY"),
             Edit(11, 12, "j")]
    assert apply_edits(text, edits) == "-- a\n-- b\nDROP INDEX CONCURRENTLY j;\n"
    assert apply_edits(text, []) == text
    with pytest.raises(ValueError, match="overlaps"):
        apply_edits(text, [Edit(0, 4, "x"), Edit(2, 6, "y")])


@pytest.mark.parametrize("code", sorted(FIXING))
def test_fix_of_the_example_parses_and_silences_the_rule(code: str, tmp_path: Path) -> None:
    rule = rule_by_code(code)
    assert rule is not None and issubclass(rule, StatementRule)
    assert code in lint_codes(rule.example, tmp_path)
    found = findings(rule, rule.example)
    assert found and all(f.fix and f.fix_title.endswith(".") for f in found)
    fixed = apply_edits(rule.example, [e for f in found for e in f.fix])
    load_parser().parse_sql_json(fixed)   # raises on a syntax error
    assert code not in lint_codes(fixed, tmp_path / "fixed"), fixed


def test_every_rule_that_fixes_is_listed() -> None:
    """A new fix gets its round trip here too (FIXING)."""
    fixing = set()
    for rule in RULES:
        if issubclass(rule, StatementRule) and any(
                f.fix for f in findings(rule, rule.example)):
            fixing.add(rule.code)
    assert fixing >= FIXING
    assert fixing <= FIXING | {r.code for r in RULES if r.code >= "CAL030"}


def test_no_fix_when_the_text_is_rendered(tmp_path: Path) -> None:
    """Offsets of a templated file are not the file's own: no edits are offered."""
    rule = rule_by_code("CAL012")
    assert rule is not None and issubclass(rule, StatementRule)
    source, statements = parse_statements("DROP INDEX {{name}};\n", {"name": "i"})
    scope = FileScope("001.sql", source, statements, True)
    _index(scope)
    found = list(rule().check_file(scope))
    assert found and not any(f.fix for f in found)


def test_concurrently_fixes_wait_for_the_version_that_has_them() -> None:
    reindex, detach = rule_by_code("CAL013"), rule_by_code("CAL014")
    assert reindex and detach and issubclass(reindex, StatementRule)
    assert issubclass(detach, StatementRule)
    assert not findings(reindex, reindex.example, pg_version=11)[0].fix
    assert findings(reindex, reindex.example, pg_version=12)[0].fix
    assert not findings(detach, detach.example, pg_version=13)[0].fix
    assert findings(detach, detach.example, pg_version=14)[0].fix


def test_no_transaction_marker_only_when_the_file_runs_in_one() -> None:
    rule = rule_by_code("CAL012")
    assert rule is not None and issubclass(rule, StatementRule)
    inside = findings(rule, rule.example)[0].fix
    outside = findings(rule, rule.example, transaction=False)[0].fix
    assert len(inside) == len(outside) + 1
    assert apply_edits(rule.example, outside) == "DROP INDEX CONCURRENTLY accounts_email;\n"


def test_an_edit_two_fixes_share_is_applied_once() -> None:
    marker = Edit(0, 0, "-- calctl: no-transaction\n")
    text = "DROP INDEX a;\nDROP INDEX b;\n"
    edits = [marker, Edit(10, 10, " CONCURRENTLY"), marker, Edit(24, 24, " CONCURRENTLY")]
    assert apply_edits(text, edits) == ("-- calctl: no-transaction\n"
                                        "DROP INDEX CONCURRENTLY a;\nDROP INDEX CONCURRENTLY b;\n")


# files whose every finding of the rule carries a fix; applied together, they parse and
# silence the rule (multi-line statements, comments, options, no final semicolon)
VARIANTS = [
    ("CAL012", "-- drop them\nDROP INDEX IF EXISTS a;\nDROP INDEX s.b -- old\n;\n"),
    ("CAL013", "REINDEX (VERBOSE) INDEX i;\nreindex\n  table t"),
    ("CAL014", "ALTER TABLE t\n  DETACH PARTITION t_2020 -- the oldest\n;\n"),
    ("CAL015", "ALTER TABLE orders\n  ADD COLUMN note text,\n  ADD CONSTRAINT fk FOREIGN KEY "
               "(c) REFERENCES customers (id)\n    ON DELETE CASCADE DEFERRABLE,\n"
               "  ADD CONSTRAINT \"Positive\" CHECK (total > 0);\n-- done\n"),
    ("CAL015", "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"),
    ("CAL015", "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;\n"
               "ALTER TABLE t VALIDATE CONSTRAINT c;\n"),
    ("CAL025", "-- calctl: no-transaction\n\nCREATE INDEX CONCURRENTLY i ON t (a);\n"),
    ("CAL026", "/* big */ ALTER TABLE t ADD COLUMN a int;"),
]


@pytest.mark.parametrize(("code", "sql"), VARIANTS, ids=[f"{c}-{i}" for i, (c, _) in
                                                         enumerate(VARIANTS)])
def test_fixes_of_harder_files(code: str, sql: str, tmp_path: Path) -> None:
    rule = rule_by_code(code)
    assert rule is not None and issubclass(rule, StatementRule)
    found = findings(rule, sql)
    assert found and all(f.fix for f in found)
    fixed = apply_edits(sql, [e for f in found for e in f.fix])
    load_parser().parse_sql_json(fixed)
    assert code not in lint_codes(fixed, tmp_path), fixed
