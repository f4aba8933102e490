"""Fixtures of the guard tests: a project whose calctl.toml holds given checks."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # strings, numbers and lists of them are TOML as JSON writes them


@pytest.fixture
def guard_project(tmp_path: Path) -> Callable[..., Path]:
    """``guard_project(checks, guard={...})``: a project (a git root with calctl.toml and
    migrations/) whose [[guard.checks]] are ``checks``; call again to rewrite them."""
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir(exist_ok=True)

    def make(checks: list[dict[str, Any]], guard: dict[str, Any] | None = None,
             extra: str = "") -> Path:
        lines = ["[migrate]", 'dir = "migrations"', "", "[guard]"]
        lines += [f"{k} = {_toml(v)}" for k, v in (guard or {}).items()]
        for check in checks:
            lines += ["", "[[guard.checks]]"]
            lines += [f"{k} = {_toml(v)}" for k, v in check.items()]
        (root / "calctl.toml").write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
        return root

    return make
