"""The rules provider: every rule registered, documented and covered by its fixture cases
(tests/fixtures/fixes/FIXnnn.toml), each case run through the provider and the patch
engine's validation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from prov_helpers import settings_for

from calctl.documents import BugReport
from calctl.providers.base import ProviderContext
from calctl.providers.rules import RULES, RulesProvider
from calctl.providers.validation import plan
from support import rule_cases


def test_registry_codes_are_unique_and_sequential() -> None:
    assert [r.code for r in RULES] == [f"FIX{i:03d}" for i in range(1, len(RULES) + 1)]
    assert len({r.name for r in RULES}) == len(RULES)


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_is_documented(rule: type) -> None:
    assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.name)
    summary, _, rest = (rule.__doc__ or "").strip().partition("\n")
    assert summary.endswith(".") or rest.split("\n\n")[0].rstrip().endswith(".")
    assert "Problem:" in rest and "Fix:" in rest
    module = Path(__import__(rule.__module__, fromlist=["x"]).__file__ or "")
    assert module.name.startswith(rule.code.lower() + "_")


CASES = rule_cases("fixes", "FIX*.toml")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_cases_that_fire_and_cases_that_do_not(rule: type) -> None:
    mine = [case for code, case in CASES if code == rule.code]
    assert any(case["expect"] == "patch" for case in mine), f"{rule.code}: never fixes"
    assert any(case["expect"] == "silent" for case in mine), f"{rule.code}: never quiet"
    assert {code for code, _ in CASES} == {r.code for r in RULES}


def _record_applied(url: str, names: list[str]) -> None:
    import psycopg

    from calctl.migrate.history import History

    with psycopg.connect(url, autocommit=True) as conn:
        history = History(conn)
        history.ensure()
        for name in names:
            history.record_success(name, "0" * 64, 1.0, "", True)


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{c}-{k['name']}" for c, k in CASES])
def test_fix_case(code: str, case: dict[str, Any], tmp_path: Path,
                  request: pytest.FixtureRequest) -> None:
    root = tmp_path / "proj"
    directory = root / "db" / "migrations"
    directory.mkdir(parents=True)
    (root / "calctl.toml").write_text('[migrate]\ndir = "db/migrations"\n', encoding="utf-8")
    for name, sql in case["files"].items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(sql, encoding="utf-8")
    url = None
    if "applied" in case:
        url = request.getfixturevalue("pg_url")
        _record_applied(url, case["applied"])
    ctx = ProviderContext(root=root, settings=settings_for(root), database_url=url)
    report = BugReport(fingerprint="fp1:t", error=case["error"],
                       file="db/migrations/" + case["file"], line=case.get("line"))
    result = RulesProvider().diagnose(report, ctx)
    if case["expect"] == "silent":
        assert result.diagnosis is None and result.reason == "no rule recognises this failure"
        return
    diagnosis = result.diagnosis
    assert diagnosis is not None and diagnosis.summary.startswith(code + " "), result
    if case["expect"] == "no-patch":
        assert diagnosis.patch is None and diagnosis.explanation
        return
    patch = diagnosis.patch
    assert patch is not None, diagnosis.explanation
    checked = plan(patch, ctx)
    assert not checked.reasons
    after = {c.path.removeprefix("db/migrations/"): c.after for c in checked.changes}
    if "renames" in case:
        got = [[e.path.removeprefix("db/migrations/"), (e.to or "").removeprefix(
            "db/migrations/")] for e in patch.edits]
        assert sorted(got) == sorted(case["renames"])
        for old, new in case["renames"]:
            assert not after[old].exists and after[new].data == (directory / old).read_bytes()
    for name, text in case.get("after", {}).items():
        assert after[name].data.decode() == text
