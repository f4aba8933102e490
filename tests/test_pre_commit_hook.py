""".pre-commit-hooks.yaml through real pre-commit and real git: the hook blocks a commit
whose migrations are misordered, and lets others through.

Offline: the repository's hooks say ``language: python`` (pre-commit then installs
calctl from the repository into an environment of its own, which needs the package
index). Here pre-commit runs each hook exactly as the file defines it (id, entry,
files, pass_filenames, require_serial) from a ``repo: local`` config with ``language:
system``: the calctl installed for the tests, found on PATH — nothing to download.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ci_examples import HOOKS, load
from support import write


def _git(repo: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=120)


def _repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    import yaml

    repo = tmp_path / "repo"
    repo.mkdir()
    bindir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALCTL_", "GIT_"))}
    env.update(PATH=bindir + os.pathsep + env.get("PATH", ""), HOME=str(tmp_path),
               PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"),
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
               GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com")
    hooks = []
    for hook in load(HOOKS):
        assert hook["language"] == "python" and hook["pass_filenames"] is True
        hooks.append({**hook, "language": "system"})
    write(repo / ".pre-commit-config.yaml",
          yaml.safe_dump({"repos": [{"repo": "local", "hooks": hooks}]}))
    write(repo / "calctl.toml", '[migrate]\ndir = "db/migrations"\n')
    write(repo / "db" / "migrations" / "001_customers.sql",
          "CREATE TABLE customers (id int PRIMARY KEY);\n")
    assert _git(repo, "init", "-q", "-b", "main", env=env).returncode == 0
    assert _git(repo, "add", "-A", env=env).returncode == 0
    assert _git(repo, "commit", "-q", "--no-verify", "-m", "init", env=env).returncode == 0
    installed = subprocess.run(["pre-commit", "install"], cwd=repo, env=env,
                               capture_output=True, text=True, timeout=120)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return repo, env


def _commit(repo: Path, env: dict[str, str], files: dict[str, str]) -> \
        subprocess.CompletedProcess[str]:
    for name, body in files.items():
        write(repo / name, body)
    assert _git(repo, "add", "-A", env=env).returncode == 0
    return _git(repo, "commit", "-m", "change", env=env)


def test_hook_ids_and_what_pre_commit_passes() -> None:
    hooks = {hook["id"]: hook for hook in load(HOOKS)}
    check = hooks["calctl-migrate-check"]
    assert check["entry"] == "calctl migrate order --check"
    assert check["files"] == r"\.sql$" and check["pass_filenames"] is True


def test_the_hook_blocks_a_misordered_migration(tmp_path: Path) -> None:
    repo, env = _repo(tmp_path)
    blocked = _commit(repo, env, {
        "db/migrations/002_orders.sql": "CREATE TABLE orders (id int, payment int "
                                        "REFERENCES payments (id));\n",
        "db/migrations/003_payments.sql": "CREATE TABLE payments (id int PRIMARY KEY);\n",
    })
    assert blocked.returncode == 1, blocked.stdout + blocked.stderr
    out = blocked.stdout + blocked.stderr
    assert "calctl migrate order --check" in out and "Failed" in out
    assert "rename 002_orders.sql to sort after 003_payments.sql" in out
    head = _git(repo, "rev-list", "--count", "HEAD", env=env).stdout.strip()
    assert head == "1"  # nothing was committed

    # renamed as the hook says: the commit goes through
    (repo / "db/migrations/002_orders.sql").rename(repo / "db/migrations/004_orders.sql")
    fixed = _commit(repo, env, {})
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "Passed" in fixed.stdout + fixed.stderr


def test_other_files_skip_the_hook_and_sql_elsewhere_is_left_out(tmp_path: Path) -> None:
    repo, env = _repo(tmp_path)
    readme = _commit(repo, env, {"README.md": "hello\n"})
    assert readme.returncode == 0, readme.stdout + readme.stderr
    assert "Skipped" in readme.stdout + readme.stderr  # no SQL staged: not run at all
    report = _commit(repo, env, {"scripts/report.sql": "SELECT * FROM nowhere;\n"})
    assert report.returncode == 0, report.stdout + report.stderr
    assert "Passed" in report.stdout + report.stderr
