"""calctl's statement rules beside squawk (squawk-cli, installed with the dev extra) on
the same fixtures: for every case of a rule that names its squawk twin, squawk flags
that rule on the same lines as calctl flags the code — or the case says what squawk
flags instead (``squawk = [[file, line], …]``) and why (``squawk_differs``), e.g. a table
created by an earlier file counts as existing for calctl only with a database."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from calctl.sql.rules import RULES, rule_by_code
from support import rule_cases

SQUAWK = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
TWINNED = {cls.code for cls in RULES if cls.squawk}
CASES = [(code, case) for code, case in rule_cases("rules", "CAL*.toml") if code in TWINNED]


def squawk_lines(root: Path, names: tuple[str, ...], pg_version: str = "",
                 ) -> list[list[Any]]:
    """[file, line] of what squawk flags under any of ``names`` in ``root``'s files."""
    assert SQUAWK, "squawk-cli is a dev dependency"
    args = [SQUAWK, "--reporter", "json"]
    if pg_version:
        args.append(f"--pg-version={pg_version}")
    files = sorted(p.name for p in root.iterdir())
    run = subprocess.run([*args, *files], cwd=root, capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode in (0, 1), run.stderr
    found = json.loads(run.stdout or "[]")
    return sorted({(v["file"], v["line"] + 1) for v in found if v["rule_name"] in names})


def test_every_squawk_twin_has_cases() -> None:
    assert {code for code, _ in CASES} == TWINNED


@pytest.mark.parametrize(("code", "case"), CASES, ids=[f"{c}-{k['name']}" for c, k in CASES])
def test_squawk_flags_what_calctl_flags(code: str, case: dict[str, Any],
                                        tmp_path: Path) -> None:
    rule = rule_by_code(code)
    assert rule is not None
    for name, sql in case["files"].items():
        (tmp_path / name).write_text(sql, encoding="utf-8")
    expected = sorted({(file, line) for file, line, _ in case["expect"]})
    if "squawk" in case:
        assert case.get("squawk_differs"), "say why squawk differs"
        expected = sorted({(file, line) for file, line in case["squawk"]})
    got = squawk_lines(tmp_path, rule.squawk, str(case.get("pg_version", "")))
    assert [list(x) for x in got] == [list(x) for x in expected]
