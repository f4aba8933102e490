"""Fixtures of the report tests: a copy of the shop project the traceback fixtures fail
in, and the fixtures themselves with their paths pointed at that copy."""

from __future__ import annotations

import shutil
import sysconfig
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "report"


def render(name: str, root: Path) -> str:
    """Fixture ``name`` with ``{ROOT}``, ``{SITE}`` and ``{STDLIB}`` filled in."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return (text.replace("{ROOT}", str(root))
            .replace("{SITE}", sysconfig.get_paths()["purelib"])
            .replace("{STDLIB}", sysconfig.get_paths()["stdlib"]))


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """A fresh copy of tests/fixtures/report/project (no diagnosers configured)."""
    root = tmp_path / "shop"
    shutil.copytree(FIXTURES / "project", root)
    # written here, not kept in the fixture: pytest would collect it as one of ours
    (root / "tests").mkdir()
    (root / "tests" / "test_cart.py").write_text(
        'from app.cart import total\n\n\ndef test_total():\n'
        '    assert total(["apple", "pear"]) == 8\n')
    return root


@pytest.fixture
def fixture_text() -> Callable[[str, Path], str]:
    return render
