"""The healer's policies: the hourly budget, git mode, a remembered fix that fails."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from heal_helpers import MIGRATIONS, migrations_project

FAIL = json.dumps("python3 -c 'import sys; sys.exit(3)'")


def _sql(root: Path, query: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(root / ".calctl" / "calctl.db") as conn:
        return conn.execute(query).fetchall()


def _events(root: Path) -> list[dict[str, Any]]:
    lines = (root / ".calctl" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_spent_budget_only_reports(tmp_path: Path, calctl: Any,
                                   new_database: Callable[[], str]) -> None:
    project = migrations_project(tmp_path / "p", extra="[heal]\nbudget_per_hour = 0\n")
    done = calctl("guard", "once", "--heal", "--json", cwd=project,
                  env={"APP_DATABASE_URL": new_database()})
    assert done.returncode == 1, done.stdout + done.stderr
    [outcome] = done.json()["heal"]
    assert outcome["outcome"] == "skipped" and "budget" in outcome["reason"]
    assert outcome["provider"] == "rules"  # diagnosed and reported, not applied
    assert sorted(p.name for p in (project / "migrations").iterdir()) == sorted(MIGRATIONS)
    assert _sql(project, "SELECT status FROM calctl_heal_runs") == [("skipped",)]
    assert _sql(project, "SELECT count(*) FROM guardian_bug_reports") == [(1,)]
    assert _sql(project, "SELECT count(*) FROM guardian_patch_applications") == [(0,)]
    assert "heal.budget_exhausted" in [e["type"] for e in _events(project)]


def test_git_mode_commits_the_kept_fix_with_its_fingerprint(
        tmp_path: Path, calctl: Any, new_database: Callable[[], str]) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    project = migrations_project(root, extra="[patch]\ngit = true\n")
    (project / ".git" / "info").mkdir(exist_ok=True)
    (project / ".git" / "info" / "exclude").write_text(".calctl/\n")
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "the fault"], cwd=root, check=True)
    done = calctl("guard", "once", "--heal", "--json", cwd=project,
                  env={"APP_DATABASE_URL": new_database(), "GIT_AUTHOR_NAME": "t",
                       "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
                       "GIT_COMMITTER_EMAIL": "t@example.com"})
    assert done.returncode == 0, done.stdout + done.stderr
    [outcome] = done.json()["heal"]
    assert outcome["outcome"] == "verified" and outcome["git_commit"]
    message = subprocess.run(["git", "log", "-1", "--format=%B"], cwd=root, check=True,
                             capture_output=True, text=True).stdout
    assert f"Calctl-Fingerprint: {outcome['fingerprint']}" in message
    assert f"Calctl-Patch: {outcome['patch_id']}" in message
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True,
                            capture_output=True, text=True).stdout
    assert status == ""  # the rename is committed whole


def test_a_remembered_fix_that_fails_is_rolled_back_and_never_replayed(
        tmp_path: Path, calctl: Any, new_database: Callable[[], str]) -> None:
    project = migrations_project(tmp_path / "p")
    app = new_database()
    first = calctl("guard", "once", "--heal", "--json", cwd=project,
                   env={"APP_DATABASE_URL": app})
    assert first.returncode == 0, first.stdout + first.stderr
    # the fault comes back, and the project now has a verify command that fails
    (project / "migrations" / "013_add_admin_roles.sql").rename(
        project / "migrations" / "011_add_admin_roles.sql")
    config = project / "calctl.toml"
    config.write_text(f"[heal]\nverify = [{FAIL}]\n" + config.read_text())
    before = sorted(p.name for p in (project / "migrations").iterdir())
    replay = calctl("guard", "once", "--heal", "--json", cwd=project,
                    env={"APP_DATABASE_URL": app})
    assert replay.returncode == 1, replay.stdout + replay.stderr
    [outcome] = replay.json()["heal"]
    assert outcome["provider"] == "memory" and outcome["outcome"] == "failed"
    assert sorted(p.name for p in (project / "migrations").iterdir()) == before
    assert _sql(project, "SELECT successes, failures FROM calctl_fix_memory") == [(1, 1)]
    assert "heal.fix_forgotten" in [e["type"] for e in _events(project)]

    third = calctl("guard", "once", "--heal", "--json", cwd=project,
                   env={"APP_DATABASE_URL": app})
    assert third.returncode == 1
    assert third.json()["heal"][0]["provider"] == "rules"  # memory no longer offers it
    refused = [e["data"]["reason"] for e in _events(project)
               if e["type"] == "report.diagnosis_failed" and e["data"]["provider"] == "memory"]
    assert "never replayed" in refused[-1]
    stats = calctl("stats", "--json", cwd=project).json()
    assert stats["fixes_forgotten"] == 1 and stats["level"] == 0
    assert stats["verified"] == 1 and stats["failed"] == 2
