"""The coderabbit publisher with a stand-in `coderabbit` executable on PATH that prints a
review in the CLI's plain format (the real CLI cannot be installed here), and without one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from prov_helpers import report, settings_for

from calctl.documents import Diagnosis, Edit, Patch
from calctl.providers.base import ProviderContext
from calctl.providers.coderabbit import CodeRabbitPublisher, parse_review
from calctl.providers.registry import publishers

REVIEW = """Starting CodeRabbit review in plain text mode...
Connecting to review service
Setting up
Analyzing
Reviewing

============================================================================
File: app.py
Line: 2
Type: potential_issue

Comment:
Indexing assumes every row has an "amount" key.

A row without it raises KeyError; consider r.get("amount", 0).

Prompt for AI Agent:
In app.py around line 2, guard the lookup.

============================================================================
File: app.py
Line: 1 to 2
Type: nitpick

Comment:
Add a docstring.

Review completed ✔
"""

STAND_IN = """#!/bin/sh
# a stand-in for the CodeRabbit CLI: records where and how it ran, prints a plain review
{{ pwd; echo "$@"; git diff --name-only; }} > "{log}"
cat "{review}"
"""


def _project(git_repo: Path) -> Path:
    (git_repo / "app.py").write_text("def total(rows):\n    return sum(r.amount for r in rows)\n")
    subprocess.run(["git", "add", "app.py"], cwd=git_repo, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "app"], cwd=git_repo, check=True)
    return git_repo


def _diagnosis() -> Diagnosis:
    patch = Patch(id="p2", description="index rows", edits=[
        Edit(op="replace", path="app.py", search="r.amount", replace='r["amount"]')])
    return Diagnosis(provider="openai", summary="rows are dicts", patch=patch)


def test_review_runs_on_a_patched_worktree(git_repo: Path, tmp_path: Path) -> None:
    root = _project(git_repo)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "review.txt").write_text(REVIEW, encoding="utf-8")
    log = tmp_path / "ran.txt"
    exe = bin_dir / "coderabbit"
    exe.write_text(STAND_IN.format(log=log, review=tmp_path / "review.txt"))
    exe.chmod(0o755)
    environ = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    ctx = ProviderContext(root=root, settings=settings_for(root), environ=environ)
    (publisher,) = publishers(["coderabbit"])
    result = publisher.publish(report(file="app.py"), _diagnosis(), ctx)
    assert result.action == "reviewed", result.detail
    assert result.detail == "2 review comments"
    first, second = result.data["findings"]
    assert first["file"] == "app.py" and first["line"] == "2"
    assert first["type"] == "potential_issue" and "KeyError" in first["comment"]
    assert second["type"] == "nitpick"
    advisory = result.data["diagnosis"]
    assert advisory["kind"] == "diagnosis" and advisory["patch"] is None
    assert advisory["provider"] == "coderabbit" and "2 comments" in advisory["summary"]
    where, args, changed = log.read_text().splitlines()
    assert args == "review --plain --type uncommitted --no-color"
    assert changed == "app.py" and Path(where).resolve() != root.resolve()
    # the user's checkout is untouched and the temporary worktree is gone
    assert "r.amount" in (root / "app.py").read_text()
    assert not Path(where).exists()


def test_not_installed_is_a_clear_error(git_repo: Path, tmp_path: Path) -> None:
    root = _project(git_repo)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    ctx = ProviderContext(root=root, settings=settings_for(root),
                          environ={"PATH": str(empty)})
    result = CodeRabbitPublisher().publish(report(file="app.py"), _diagnosis(), ctx)
    assert result.action == "failed"
    assert "CodeRabbit CLI (coderabbit) is not installed" in result.detail
    assert "install.sh" in result.detail


def test_parse_review_reads_plain_blocks() -> None:
    assert [f["line"] for f in parse_review(REVIEW)] == ["2", "1 to 2"]
    assert parse_review("Review completed ✔\n") == []
