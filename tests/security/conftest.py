"""Fixtures the attack tests share (helpers they import live in tests/support.py)."""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support import pids_with, write


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """A real project whose one test fails: add() subtracts."""
    root = tmp_path / "project"
    write(root / "calctl.toml", '[migrate]\ndir = "migrations"\n')
    (root / "migrations").mkdir()
    write(root / "app" / "__init__.py", "")
    write(root / "app" / "calc.py", "def add(a, b):\n    return a - b\n")
    write(root / "tests" / "test_calc.py",
          "from app.calc import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n")
    return root


@pytest.fixture
def marker() -> Iterator[Callable[..., str]]:
    """Unique ``sleep`` durations (``sleep 31.<random>``) to find our processes by argv;
    whatever a failing test leaves behind (and only that) is killed at the end."""
    made: list[str] = []

    def make(whole: int = 31) -> str:
        made.append(f"{whole}.{secrets.randbelow(10**6):06d}")
        return made[-1]

    yield make
    for mark in made:
        for pid in pids_with(mark):
            os.kill(pid, signal.SIGKILL)
