"""Every lint rule: registered, documented, with a failing and a passing fixture."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from calctl.config import MigrateSettings
from calctl.sql.rules import RULES, rule_by_code, rules_for
from calctl.sql.runtime import lint_directory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"


def test_registry_codes_are_unique_and_sequential() -> None:
    codes = [cls.code for cls in RULES]
    assert codes == [f"CAL{i:03d}" for i in range(1, len(RULES) + 1)]
    assert len({cls.name for cls in RULES}) == len(RULES)
    assert rule_by_code("cal001") is RULES[0]
    assert {r.code for r in rules_for("order")} < {r.code for r in rules_for("lint")}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule: type) -> None:
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
    assert rule.severity in ("error", "warning", "info")
    doc = rule.__doc__ or ""
    summary, _, rest = doc.strip().partition("\n")
    assert summary.endswith(".")
    assert "Problem:" in rest and "Fix:" in rest
    module = Path(__import__(rule.__module__, fromlist=["x"]).__file__ or "")
    assert module.name.startswith(rule.code.lower() + "_")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_fixtures(rule: type, tmp_path: Path) -> None:
    bad = FIXTURES / rule.code / "bad"
    good = FIXTURES / rule.code / "good"
    assert bad.is_dir() and good.is_dir(), f"{rule.code} needs fixtures/rules/{rule.code}/"
    found = lint_directory(bad, MigrateSettings(), cache_dir=tmp_path).problems
    hits = [p for p in found if p.code == rule.code]
    assert hits, f"{rule.code} did not fire on its bad fixture: {found}"
    assert all(p.name == rule.name and p.severity == rule.severity for p in hits)
    assert all(p.line is None or p.line >= 1 for p in hits)
    clean = lint_directory(good, MigrateSettings(), cache_dir=tmp_path).problems
    assert [p for p in clean if p.code == rule.code] == []
