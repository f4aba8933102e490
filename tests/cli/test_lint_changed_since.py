"""``migrate lint --changed-since REF`` in a real git repository: only files changed since
the merge-base of REF and HEAD (committed, staged, unstaged or untracked) are reported;
the ordering still reads every file."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

INDEX = "CREATE INDEX {name} ON accounts (email);\n"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True,
                          text=True).stdout


def _write(repo: Path, name: str, text: str) -> None:
    path = repo / "db" / "migrations" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _paths(calctl: Any, repo: Path, *args: str) -> list[str]:
    result = calctl("migrate", "lint", "db/migrations", "--json", *args, cwd=repo)
    assert result.returncode in (0, 1), result.stderr
    return sorted({p["path"] for p in result.json()["problems"]})


def test_only_files_changed_since_the_merge_base(calctl: Any, git_repo: Path) -> None:
    _write(git_repo, "001_accounts.sql", "CREATE TABLE accounts (id bigint, email text);\n")
    _write(git_repo, "002_old.sql", INDEX.format(name="a1"))
    _write(git_repo, "003_edited.sql", INDEX.format(name="a2"))
    _git(git_repo, "add", "-A")
    _git(git_repo, "commit", "-q", "-m", "old migrations")
    _git(git_repo, "checkout", "-q", "-b", "feature")
    # main moves on after the branch point: its files are not the branch's changes
    _git(git_repo, "checkout", "-q", "main")
    _write(git_repo, "004_on_main.sql", INDEX.format(name="a3"))
    _git(git_repo, "add", "-A")
    _git(git_repo, "commit", "-q", "-m", "main moves on")
    _git(git_repo, "checkout", "-q", "feature")
    _write(git_repo, "005_committed.sql", INDEX.format(name="a4"))
    _git(git_repo, "add", "-A")
    _git(git_repo, "commit", "-q", "-m", "feature work")
    _write(git_repo, "003_edited.sql", "-- edited\n" + INDEX.format(name="a2"))   # unstaged
    _write(git_repo, "006_staged.sql", INDEX.format(name="a5"))
    _git(git_repo, "add", "db/migrations/006_staged.sql")
    _write(git_repo, "007_untracked.sql", INDEX.format(name="a6"))
    every = ["002_old.sql", "003_edited.sql", "005_committed.sql", "006_staged.sql",
             "007_untracked.sql"]
    assert _paths(calctl, git_repo) == every
    assert _paths(calctl, git_repo, "--changed-since", "main") == every[1:]
    # from the HEAD commit: only what is not committed yet
    assert _paths(calctl, git_repo, "--changed-since", "HEAD") == [
        "003_edited.sql", "006_staged.sql", "007_untracked.sql"]


def test_an_ordering_problem_naming_a_changed_file_is_kept(calctl: Any,
                                                          git_repo: Path) -> None:
    _write(git_repo, "010_users.sql", "CREATE TABLE users (id bigint);\n")
    _write(git_repo, "020_audit.sql", "INSERT INTO audit (id) VALUES (1);\n")
    _git(git_repo, "add", "-A")
    _git(git_repo, "commit", "-q", "-m", "base")
    # a new file creating what an old, earlier-sorting file uses: the forward dependency
    # is reported on the old file, and names the new one
    _write(git_repo, "030_audit.sql", "CREATE TABLE audit (id bigint);\n")
    result = calctl("migrate", "lint", "db/migrations", "--json", "--changed-since", "HEAD",
                    cwd=git_repo)
    problems = result.json()["problems"]
    assert [(p["code"], p["path"]) for p in problems] == [("CAL001", "020_audit.sql")]
    assert "030_audit.sql" in problems[0]["message"]


def test_a_bad_ref_is_exit_2_with_a_sentence(calctl: Any, git_repo: Path) -> None:
    _write(git_repo, "001_a.sql", "CREATE TABLE a (id bigint);\n")
    result = calctl("migrate", "lint", "db/migrations", "--changed-since", "no-such-branch",
                    cwd=git_repo)
    assert result.returncode == 2
    assert "--changed-since no-such-branch: git cannot find the merge-base of " \
           "'no-such-branch' and HEAD" in result.stderr
    assert "fetch-depth: 0" in result.stderr


def test_outside_a_repository_is_exit_2(calctl: Any, tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "001_a.sql").write_text("CREATE TABLE a (id bigint);\n", encoding="utf-8")
    result = calctl("migrate", "lint", "m", "--changed-since", "main", cwd=tmp_path,
                    env={"GIT_CEILING_DIRECTORIES": str(tmp_path.parent)})
    assert result.returncode == 2
    assert "is not inside a git repository" in result.stderr
