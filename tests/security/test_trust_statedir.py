"""The state directory itself, attacked for real: a `.calctl` a repository ships as a link,
one another user owns, and one a umask-0 checkout made world-writable."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

PATCH = {"kind": "patch", "version": 1, "id": "p-statedir", "description": "edit",
         "edits": [{"op": "replace", "path": "app.py", "search": "x = 1", "replace": "x = 2"}]}


def project_with_app(project: Path) -> Path:
    (project / "app.py").write_text("x = 1\n", encoding="utf-8")
    return project


def test_a_state_directory_that_is_a_link_is_never_written_through(
        project: Path, tmp_path: Path, calctl: Any) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (project_with_app(project) / ".calctl").symlink_to(outside)
    result = calctl("patch", "apply", "-", "--no-verify", cwd=project, input=json.dumps(PATCH))
    assert result.returncode == 3, result.stderr
    assert "symbolic link" in result.stderr
    assert list(outside.iterdir()) == []
    assert (project / "app.py").read_text(encoding="utf-8") == "x = 1\n"
    # a reading command still works, without a cache
    (project / "migrations" / "001_t.sql").write_text("create table t (id int);\n")
    order = calctl("migrate", "order", "--check", cwd=project)
    assert order.returncode == 0, order.stderr
    assert list(outside.iterdir()) == []


def test_a_state_directory_another_user_owns_is_not_written(
        project: Path, calctl: Any) -> None:
    if os.geteuid() != 0:
        pytest.fail("this test changes a directory's owner: run it as root (CI does)")
    state = project_with_app(project) / ".calctl"
    state.mkdir()
    os.chown(state, 65534, 65534)  # nobody
    result = calctl("patch", "apply", "-", "--no-verify", cwd=project, input=json.dumps(PATCH))
    assert result.returncode == 3, result.stderr
    assert "another user" in result.stderr
    assert list(state.iterdir()) == []
    assert (project / "app.py").read_text(encoding="utf-8") == "x = 1\n"


def test_a_world_writable_state_directory_is_made_private(project: Path, calctl: Any) -> None:
    state = project_with_app(project) / ".calctl"
    (state / "cache").mkdir(parents=True)
    state.chmod(0o777)
    (state / "cache").chmod(0o777)
    result = calctl("patch", "apply", "-", "--no-verify", cwd=project, input=json.dumps(PATCH))
    assert result.returncode == 0, result.stderr
    for path in (state, state / "cache", state / "journal", state / "snapshots"):
        assert path.stat().st_mode & 0o022 == 0, path
    assert (project / "app.py").read_text(encoding="utf-8") == "x = 2\n"


def test_a_new_state_directory_is_private_under_umask_0(project: Path, calctl: Any) -> None:
    old = os.umask(0)
    try:
        result = calctl("patch", "apply", "-", "--no-verify", cwd=project_with_app(project),
                        input=json.dumps(PATCH))
    finally:
        os.umask(old)
    assert result.returncode == 0, result.stderr
    assert (project / ".calctl").stat().st_mode & 0o777 == 0o700
