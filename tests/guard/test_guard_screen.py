"""What a check quotes (a log line, a reply, command output) and what a report shows (a
log's error, a model's answer) reaches the terminal without its escape sequences: a
planted log line cannot clear the screen, move the cursor or retitle the window."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

HOSTILE = "ERROR boom \x1b]0;pwned\x07\x1b[2J\x1b[1A\rhidden\x9b31m"


def test_guard_summary_escapes_control_characters(
        calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([{"name": "log", "type": "log", "path": "app.log"}])
    log = root / "app.log"
    log.write_text("INFO start\n")
    assert calctl("guard", "once", cwd=root).returncode == 0  # notes the end of the log
    with log.open("a") as handle:
        handle.write(HOSTILE + "\n")
    result = calctl("guard", "once", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "ERROR boom" in result.stdout
    assert not any(c in result.stdout for c in "\x1b\x07\r\x9b"), result.stdout
    assert "\\x1b]0;pwned\\x07" in result.stdout  # shown, spelled out


def test_report_text_escapes_control_characters(calctl: Any, project: Path) -> None:
    (project / "calctl.toml").write_text('[report]\nproviders = []\n', encoding="utf-8")
    (project / "app.py").write_text("def f():\n    return 1 / 0\n", encoding="utf-8")
    result = calctl("report", "--dry-run", "KeyError: " + HOSTILE, "--file", "app.py",
                    "--line", "2", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "boom" in result.stdout
    assert not any(c in result.stdout for c in "\x1b\x07\r\x9b"), result.stdout
