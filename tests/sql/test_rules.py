"""Every lint rule: registered, documented, and its cases (tests/fixtures/rules/CALnnn.toml:
migration files and the problems expected in them, file/line/column) all hold."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from calctl.config import MigrateSettings
from calctl.sql.observations import KINDS
from calctl.sql.rules import RULES, ObservationRule, rule_by_code, rules_for
from calctl.sql.runtime import lint_directory
from support import rule_cases


def test_registry_codes_are_unique_and_in_order() -> None:
    codes = [cls.code for cls in RULES]
    assert all(re.fullmatch(r"CAL\d{3}", code) for code in codes)
    assert codes == sorted(set(codes))
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


CASES = rule_cases("rules", "CAL*.toml")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_cases_that_fire_and_cases_that_do_not(rule: type) -> None:
    mine = [case for code, case in CASES if code == rule.code]
    assert any(case["expect"] for case in mine), f"{rule.code}: no case where it fires"
    assert any(not case["expect"] for case in mine), f"{rule.code}: no case where it is quiet"


def test_every_fixture_file_is_a_rule() -> None:
    assert {code for code, _ in CASES} == {cls.code for cls in RULES}


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{c}-{k['name']}" for c, k in CASES])
def test_rule_case(code: str, case: dict[str, Any], tmp_path: Path) -> None:
    rule = rule_by_code(code)
    assert rule is not None
    root = tmp_path / "migrations"
    root.mkdir()
    for name, sql in case["files"].items():
        (root / name).write_text(sql, encoding="utf-8")
    # a case may name the target's major version (rules that depend on it)
    context = {"pg_version": case["pg_version"]} if "pg_version" in case else None
    found = lint_directory(root, MigrateSettings(), cache_dir=tmp_path / "cache",
                           context=context).problems
    hits = [p for p in found if p.code == code]
    got = [[Path(p.path).name, p.line or 0, p.column or 0] for p in hits]
    assert got == case["expect"]
    assert all(p.name == rule.name and p.severity == rule.severity and p.message
               for p in hits)


def test_each_observation_kind_has_one_rule_that_words_it() -> None:
    owners = [kind for cls in RULES if issubclass(cls, ObservationRule)
              for kind in cls.observes]
    assert sorted(owners) == sorted(KINDS)


@pytest.mark.parametrize("rule", [r for r in RULES if r.squawk], ids=lambda r: r.code)
def test_each_squawk_twin_has_an_example_that_fires(rule: type, tmp_path: Path) -> None:
    """``example`` (docs/rules.md shows it beside squawk's name) fires the rule alone."""
    assert rule.example.strip()
    root = tmp_path / "migrations"
    root.mkdir()
    (root / "001_example.sql").write_text(rule.example, encoding="utf-8")
    found = lint_directory(root, MigrateSettings(), cache_dir=tmp_path / "cache").problems
    assert rule.code in {p.code for p in found}


def test_order_and_observation_rules_are_loaded_by_every_analysis() -> None:
    from calctl.sql.rules import EAGER

    assert all(cls in EAGER for cls in RULES
               if cls.scope == "order" or issubclass(cls, ObservationRule))
    assert list(RULES[:len(EAGER)]) == list(EAGER)


def test_migrate_order_never_imports_the_lint_only_rules(tmp_path: Path) -> None:
    """squawk's ~40 rules cost tens of milliseconds to import: `migrate order` and the
    analysing processes do without them."""
    import subprocess
    import sys

    root = tmp_path / "migrations"
    root.mkdir()
    (root / "001_t.sql").write_text("CREATE TABLE t (id bigint);\nCREATE INDEX i ON t (id);\n")
    code = ("import sys; from pathlib import Path; from calctl.config import MigrateSettings;"
            "from calctl.sql.runtime import build_plan;"
            f"build_plan(Path({str(root)!r}), MigrateSettings());"
            "import json; print(json.dumps(sorted(m for m in sys.modules"
            " if m.startswith('calctl.sql.rules.cal'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={"CALCTL_SERIAL": "1", "PATH": "/usr/bin:/bin"})
    import json

    loaded = json.loads(done.stdout)
    assert loaded and all(int(m.rsplit(".cal", 1)[1][:3]) <= 10 for m in loaded)
