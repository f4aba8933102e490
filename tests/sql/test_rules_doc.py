"""docs/rules.md is the registry's, and every squawk twin's example is flagged by both
squawk and calctl (the side-by-side table says so)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from calctl.sql.rules import RULES
from calctl.sql.rules.docs import anchor, markdown

ROOT = Path(__file__).resolve().parents[2]
SQUAWK = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
TWINS = [(name, cls) for cls in RULES for name in cls.squawk]


def test_docs_rules_md_is_current() -> None:
    """Regenerate it with `make rules-doc` (python -m calctl.sql.rules.docs) when this
    fails."""
    run = subprocess.run([sys.executable, "-m", "calctl.sql.rules.docs"], capture_output=True,
                         text=True, timeout=60, check=True)
    assert run.stdout == markdown()
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == run.stdout


def test_every_rule_has_its_section_and_anchor() -> None:
    text = markdown()
    for cls in RULES:
        assert f"\n## {cls.code} {cls.name}\n" in text
        assert f"(#{anchor(cls)})" in text
    assert anchor(next(c for c in RULES if c.code == "CAL011")) == \
        "cal011-require-concurrent-index-creation"
    for name, cls in TWINS:
        assert f"| `{name}` | [{cls.code}](#{anchor(cls)})" in text
    assert not re.search(r"(?<!`)``(?!`)", text)  # no reStructuredText quoting


@pytest.mark.parametrize(("name", "cls"), TWINS, ids=[n for n, _ in TWINS])
def test_squawk_and_calctl_both_flag_the_example(name: str, cls: Any, tmp_path: Path,
                                                 calctl: Any) -> None:
    assert cls.example, f"{cls.code} names a squawk twin, so it needs an example"
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "001_example.sql").write_text(cls.example, encoding="utf-8")
    assert SQUAWK, "squawk-cli is a dev dependency"
    run = subprocess.run([SQUAWK, "--reporter", "json", "001_example.sql"], cwd=directory,
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode in (0, 1), run.stderr
    assert name in {v["rule_name"] for v in json.loads(run.stdout or "[]")}
    result = calctl("migrate", "lint", "--json", "--select", cls.code, str(directory),
                    cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert cls.code in {p["code"] for p in result.json()["problems"]}
