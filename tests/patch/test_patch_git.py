"""Git mode: verified patches are committed, rollbacks make revert commits, the user's
uncommitted work is never committed or overwritten."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from patch_helpers import patch_doc, write

FIX = {"op": "replace", "path": "app.py", "search": "a - b", "replace": "a + b"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def _setup(repo: Path) -> Path:
    write(repo / "app.py", "def add(a, b):\n    return a - b\n")
    write(repo / "other.py", "X = 1\n")
    write(repo / "calctl.toml", "")
    (repo / ".gitignore").write_text(".calctl/\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "app")
    return repo


def test_verified_patch_is_committed_alone(calctl: Any, git_repo: Path) -> None:
    repo = _setup(git_repo)
    write(repo / "other.py", "X = 2  # user's work in progress\n")
    write(repo / "staged.py", "S = 1\n")
    git(repo, "add", "staged.py")
    result = calctl("patch", "apply", "-", "--json", "--git", "--verify", "true", cwd=repo,
                    input=patch_doc(FIX, description="fix add"))
    assert result.returncode == 0, result.stdout + result.stderr
    data = result.json()
    commit = data["git_commit"]
    assert git(repo, "rev-parse", "HEAD").strip() == commit
    assert git(repo, "show", "--name-only", "--format=", commit).split() == ["app.py"]
    message = git(repo, "log", "-1", "--format=%B")
    assert f"calctl patch {data['patch_id']}: fix add" in message
    status = git(repo, "status", "--porcelain")
    assert " M other.py" in status and "A  staged.py" in status
    rolled = calctl("patch", "rollback", data["patch_id"], "--git", "--json", cwd=repo)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    revert = rolled.json()["git_commit"]
    assert git(repo, "rev-parse", "HEAD").strip() == revert
    assert f"This reverts commit {commit}" in git(repo, "log", "-1", "--format=%B")
    assert (repo / "app.py").read_text() == "def add(a, b):\n    return a - b\n"
    assert "A  staged.py" in git(repo, "status", "--porcelain")


def test_refuses_when_touched_files_have_uncommitted_changes(calctl: Any,
                                                             git_repo: Path) -> None:
    repo = _setup(git_repo)
    write(repo / "app.py", "def add(a, b):\n    return a - b  # mine\n")
    result = calctl("patch", "apply", "-", "--json", "--git", "--no-verify", cwd=repo,
                    input=patch_doc(FIX))
    assert result.returncode == 1
    assert result.json()["status"] == "refused"
    assert "app.py: has uncommitted changes" in result.json()["reasons"][0]
    assert "# mine" in (repo / "app.py").read_text()


def test_branch_mode_leaves_the_current_branch_alone(calctl: Any, git_repo: Path) -> None:
    repo = _setup(git_repo)
    head = git(repo, "rev-parse", "HEAD").strip()
    result = calctl("patch", "apply", "-", "--json", "--git", "--branch", "--verify", "true",
                    "--json", cwd=repo, input=patch_doc(
                        FIX, {"op": "create", "path": "new.py", "content": "N = 1\n"}))
    assert result.returncode == 0, result.stdout + result.stderr
    data = result.json()
    branch = f"calctl/patch-{data['patch_id']}"
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(repo, "rev-parse", branch).strip() == data["git_commit"]
    assert sorted(git(repo, "show", "--name-only", "--format=", branch).split()) == \
        ["app.py", "new.py"]
    assert "a + b" in git(repo, "show", f"{branch}:app.py")
    assert "a + b" in (repo / "app.py").read_text()  # the fix is live in the working tree


def test_git_mode_outside_a_repository(calctl: Any, proj: Path) -> None:
    result = calctl("patch", "apply", "-", "--json", "--git", "--no-verify", cwd=proj,
                    input=patch_doc({"op": "replace", "path": "app/calc.py",
                                     "search": "a - b", "replace": "a + b"}))
    assert result.returncode == 2
    assert "not inside a git repository" in result.json()["message"]
