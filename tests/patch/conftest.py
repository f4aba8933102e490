"""Fixtures of the patch tests: a small project with code, CRLF and executable files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from patch_helpers import write


@pytest.fixture
def proj(project: Path) -> Path:
    """``project`` plus app code, a CRLF file, an executable script and a test file."""
    write(project / "app" / "calc.py",
          "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n")
    write(project / "app" / "__init__.py", "")
    write(project / "windows.txt", "first\r\nsecond\r\nthird\r\n")
    write(project / "run.sh", "#!/bin/sh\necho old\n", mode=0o755)
    write(project / "secret.cfg", "mode = 1\n", mode=0o600)
    write(project / "tests" / "test_calc.py",
          "from app.calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n")
    return project
