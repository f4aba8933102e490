"""A healer killed during verification leaves the project as it was; two healers of
one project never run at once."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from heal_helpers import migrations_project

from support import files_and_links, pids_with

HOOK = '''import pathlib, sys, time
flag, marker = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
if flag.exists():
    marker.write_text(str(time.time()))
    time.sleep(float(flag.read_text() or "120"))
'''


def project_with_slow_verify(tmp_path: Path, seconds: float) -> tuple[Path, Path, Path]:
    """A migrations project whose [heal] verify command sleeps ``seconds`` while the
    flag file exists, after writing the marker file (both outside the project)."""
    hook = tmp_path / "hooks" / "verify_hook.py"
    hook.parent.mkdir(parents=True)
    hook.write_text(HOOK, encoding="utf-8")
    flag, marker = tmp_path / "hooks" / "slow", tmp_path / "hooks" / "verifying"
    flag.write_text(str(seconds), encoding="utf-8")
    command = shlex.join([sys.executable, str(hook), str(flag), str(marker)])
    project = migrations_project(tmp_path / "project",
                                 extra=f"[heal]\nverify = [{json.dumps(command)}]\n")
    return project, flag, marker


def _files(root: Path) -> dict[str, tuple[bytes, int]]:
    return {k: v for k, v in files_and_links(root).items()
            if not k.startswith((".calctl/", ".git/"))}


def _env(app_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    env["APP_DATABASE_URL"] = app_url
    return env


def test_kill_9_during_verification_then_guard_once_restores(
        tmp_path: Path, calctl: Any, calctl_argv: list[str],
        new_database: Callable[[], str]) -> None:
    project, flag, marker = project_with_slow_verify(tmp_path, 120)
    app = new_database()
    before = _files(project)
    healer = subprocess.Popen([*calctl_argv, "guard", "once", "--heal", "--json"], cwd=project,
                              env=_env(app), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert healer.poll() is None, healer.communicate()
            assert time.monotonic() < deadline, "verification never started"
            time.sleep(0.1)
        # the patch is on disk, unverified, while the verify command runs
        assert _files(project) != before
        os.kill(healer.pid, signal.SIGKILL)
        healer.wait(30)
    finally:
        if healer.poll() is None:
            healer.kill()
        healer.communicate()
    flag.unlink()

    done = calctl("guard", "once", "--json", cwd=project, env={"APP_DATABASE_URL": app})
    assert done.returncode == 1, done.stdout + done.stderr  # unhealthy again: fault is back
    assert _files(project) == before  # byte-for-byte, never half
    assert not pids_with(str(marker))  # the dead run's verify command is gone too
    events = [json.loads(line) for line in
              (project / ".calctl" / "events.jsonl").read_text().splitlines()]
    recovered = [e for e in events if e["type"] == "heal.recovered"]
    assert [e["data"]["action"] for e in recovered] == ["rolled_back"]

    # the next healer closes the interrupted run and heals for real
    healed = calctl("guard", "once", "--heal", "--json", cwd=project,
                    env={"APP_DATABASE_URL": app})
    assert healed.returncode == 0, healed.stdout + healed.stderr
    import sqlite3

    with sqlite3.connect(project / ".calctl" / "calctl.db") as conn:
        statuses = [r[0] for r in conn.execute(
            "SELECT status FROM calctl_heal_runs ORDER BY started_at")]
    assert statuses == ["rolled_back", "verified"]


def test_two_healers_started_together_heal_once(
        tmp_path: Path, calctl_argv: list[str], new_database: Callable[[], str]) -> None:
    project, _flag, _marker = project_with_slow_verify(tmp_path, 3)
    app = new_database()
    procs = [subprocess.Popen([*calctl_argv, "guard", "once", "--heal", "--json"], cwd=project,
                              env=_env(app), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [(p.wait(180), *p.communicate()) for p in procs]
    codes = sorted(code for code, _out, _err in results)
    assert codes == [0, 3], results
    locked = next(err for code, _out, err in results if code == 3)
    assert "guard" in locked or "lock" in locked
    import sqlite3

    with sqlite3.connect(project / ".calctl" / "calctl.db") as conn:
        runs = conn.execute("SELECT status FROM calctl_heal_runs").fetchall()
    assert runs == [("verified",)]


def test_hosts_sharing_a_store_never_heal_one_project_twice(
        tmp_path: Path, calctl_argv: list[str], new_database: Callable[[], str]) -> None:
    """Two state directories (two hosts' worth of local locks) and one PostgreSQL store:
    the advisory lock lets one healer through."""
    project, _flag, _marker = project_with_slow_verify(tmp_path, 4)
    app, store = new_database(), new_database()
    # the shared store exists already (two first runs creating its schema at the same
    # moment is the store's own race, not what this test is about)
    subprocess.run([*calctl_argv, "--store-url", store, "stats"], cwd=project,
                   env=_env(app), check=True, capture_output=True)
    procs = [subprocess.Popen([*calctl_argv, "--store-url", store, "--state-dir",
                               str(tmp_path / f"state{n}"), "guard", "once", "--heal"],
                              cwd=project, env=_env(app), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in range(2)]
    results = [(p.wait(180), *p.communicate()) for p in procs]
    assert sorted(code for code, _o, _e in results) == [0, 3], results
    locked = next(err for code, _out, err in results if code == 3)
    assert "another healer" in locked
    with psycopg.connect(store) as conn:
        runs = conn.execute("SELECT status FROM calctl_heal_runs").fetchall()
    assert runs == [("verified",)]
