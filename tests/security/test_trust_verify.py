"""Verification that cannot be outlived (issue 10, items 7-9), attacked for real.

Real ``calctl patch apply`` processes run verify commands that fork daemons,
``setsid`` out of their session, outlive a ``kill -9`` of calctl, or name
calctl without it being on PATH. Each test finds the processes it started by a
unique argv marker in /proc and asserts they are gone afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support import pids_with

CALC = "def add(a, b):\n    return a - b\n"
FIX = {"kind": "patch", "version": 1, "description": "fix add",
       "edits": [{"op": "replace", "path": "app/calc.py", "search": "a - b",
                  "replace": "a + b"}]}

# both ways calctl ends a tree: the cgroup (where the machine allows one) and the
# portable one (subreaper + recorded pids), which must work alone
MODES = [pytest.param({}, id="default"), pytest.param({"CALCTL_CGROUP": "0"}, id="no-cgroup")]


@pytest.fixture
def proj(project: Path) -> Path:
    (project / "app").mkdir()
    (project / "app" / "calc.py").write_text(CALC)
    return project


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def apply(calctl: Any, proj: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return calctl("patch", "apply", "-", "--json", *args, cwd=proj, input=json.dumps(FIX),
                  env=env, timeout=60)


@pytest.mark.parametrize("env", MODES)
def test_setsid_daemon_neither_hangs_apply_nor_survives_it(calctl: Any, proj: Path,
                                                           marker: Any,
                                                           env: dict[str, str]) -> None:
    mark = marker()
    started = time.monotonic()
    result = apply(calctl, proj, "--verify", f"sh -c 'setsid sleep {mark} & exit 0'",
                   "--verify-timeout", "5", env=env)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    data = result.json()
    assert data["status"] == "verified"
    assert data["verification"][0]["returncode"] == 0
    assert data["verification"][0]["timed_out"] is False
    assert "ended 1 process it left" in data["verification"][0]["output_tail"]
    assert took < 4, f"patch apply took {took:.1f} s: it waited for the daemon"
    assert pids_with(mark) == []
    assert "a + b" in (proj / "app" / "calc.py").read_text()
    assert list((proj / ".calctl" / "locks").glob("verify-*.procs")) == []


@pytest.mark.parametrize("env", MODES)
def test_backgrounded_child_after_exit_0_is_verified_not_timed_out(
        calctl: Any, proj: Path, marker: Any, env: dict[str, str]) -> None:
    mark = marker(120)
    result = apply(calctl, proj, "--verify", f"sh -c 'sleep {mark} & exit 0'",
                   "--verify-timeout", "3", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    run = result.json()["verification"][0]
    assert (result.json()["status"], run["returncode"], run["timed_out"]) == \
        ("verified", 0, False)
    assert run["duration"] < 2
    assert pids_with(mark) == []


@pytest.mark.parametrize("env", MODES)
def test_timeout_rolls_back_and_kills_the_whole_tree(calctl: Any, proj: Path, marker: Any,
                                                     env: dict[str, str]) -> None:
    escaped, waiting = marker(60), marker(61)
    command = f"sh -c 'setsid sleep {escaped} & sleep {waiting}; echo never'"
    started = time.monotonic()
    result = apply(calctl, proj, "--verify", command, "--verify-timeout", "1", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    data = result.json()
    assert data["status"] == "rolled_back"
    assert data["verification"][0]["timed_out"] is True
    assert data["verification"][0]["returncode"] is None
    assert "timed out after 1 s" in data["reasons"][0]
    assert time.monotonic() - started < 5
    assert pids_with(escaped) == [] and pids_with(waiting) == []
    assert (proj / "app" / "calc.py").read_text() == CALC


def _procs_records(proj: Path) -> list[dict[str, Any]]:
    records = []
    for path in (proj / ".calctl" / "locks").glob("verify-*.procs"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            records.append(json.loads(path.read_bytes().split(b"\n", 1)[1]))
    return records


@pytest.mark.parametrize("env", MODES)
def test_kill_9_of_calctl_then_recover_ends_the_setsid_grandchild(
        calctl: Any, calctl_argv: list[str], proj: Path, tmp_path: Path, marker: Any,
        env: dict[str, str]) -> None:
    growing = tmp_path / "outside.log"
    mark = marker(30)
    writer = f'while :; do echo x >> {growing}; sleep 0.02; done; : {mark}'
    command = f"sh -c 'setsid sh -c \"{writer}\" & sleep {marker(45)}'"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    full_env.update(env)
    proc = subprocess.Popen([*calctl_argv, "patch", "apply", "-", "--json", "--verify",
                             command, "--verify-timeout", "60"],
                            cwd=proj, env=full_env, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None
    proc.stdin.write(json.dumps(FIX).encode())
    proc.stdin.close()
    wait_for(lambda: growing.exists() and growing.stat().st_size > 0)
    if env.get("CALCTL_CGROUP") == "0":
        # the poll has seen the writer: calctl, sh, the setsid'd writer, its sleeps
        wait_for(lambda: any(len(r["seen"]) >= 3 for r in _procs_records(proj)))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert "a + b" in (proj / "app" / "calc.py").read_text()
    size = growing.stat().st_size
    time.sleep(0.3)
    assert growing.stat().st_size > size, "the attack: the grandchild outlives calctl"

    result = calctl("patch", "recover", "--json", cwd=proj, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    size = growing.stat().st_size
    time.sleep(0.3)
    assert growing.stat().st_size == size, "the old verification is still writing"
    assert (proj / "app" / "calc.py").read_text() == CALC
    assert list((proj / ".calctl" / "locks").glob("verify-*.procs")) == []


# Forged records name pid 1 and calctl's own ancestors: were the checks wrong, calctl
# would kill every process of this user it can see. So that test runs in a PID
# namespace of its own (unshare, as root), where "every process" is only its own.
SCENARIO = r"""
import json, os, signal, subprocess, sys, time
from pathlib import Path
from calctl import trust

if os.getpid() == 1:  # namespace init: run the scenario again as pid 2, calctl's ancestor
    sys.exit(subprocess.run([sys.executable, "-c", open(sys.argv[1]).read(),
                             *sys.argv[1:]]).returncode)
proj, calctl = Path(sys.argv[2]), json.loads(sys.argv[3])
locks = proj / ".calctl" / "locks"
boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()

def start(pid):
    return int(Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[19])

def record(*seen):  # its owner, a pid past pid_max, is surely dead
    return json.dumps({"version": 1, "owner": [2**22 + 1, 1], "boot": boot, "leader": None,
                       "seen": [list(x) for x in seen], "cgroup": None}).encode()

def recover():
    return subprocess.run([*calctl, "patch", "recover", "--json"], cwd=proj,
                          capture_output=True).returncode

mine = subprocess.Popen(["sleep", "300"], start_new_session=True)
others = subprocess.Popen(["sleep", "300"], start_new_session=True, user=65534)
time.sleep(0.1)
exact = (mine.pid, start(mine.pid))
planted = {
    # a repository could ship this one: no tag under this user's key
    "verify-aa.procs": record(exact),
    # a tag, but made for a cache entry, not a procs record
    "verify-bb.procs": trust.seal(record(exact), "cache"),
    # authentic, but the pid now belongs to a process that started later
    "verify-cc.procs": trust.seal(record((mine.pid, exact[1] - 1)), "procs"),
    # authentic and exact, but pid 1, calctl's ancestor (this scenario, whose
    # descendants include both victims) and another user's process
    "verify-dd.procs": trust.seal(record((1, start(1)), (os.getpid(), start(os.getpid())),
                                         (others.pid, start(others.pid))), "procs"),
}
for name, blob in planted.items():
    (locks / name).write_bytes(blob)
out = {"first": recover()}
time.sleep(0.2)
out["alive"] = [mine.poll() is None, others.poll() is None]
out["left"] = sorted(p.name for p in locks.glob("*.procs"))
# the same kind of record, exact and authentic, does end the process
(locks / "verify-ee.procs").write_bytes(trust.seal(record(exact), "procs"))
out["second"] = recover()
out["mine"] = mine.wait(timeout=5)
out["others_alive"] = others.poll() is None
others.kill()
print(json.dumps(out))
"""


def test_a_planted_or_stale_procs_record_kills_nothing(calctl_argv: list[str], proj: Path,
                                                       tmp_path: Path) -> None:
    """The record is state read back: unsealed, sealed for another purpose, naming a
    reused pid, pid 1, calctl's own ancestors or another user's process: nothing dies."""
    (proj / ".calctl" / "locks").mkdir(parents=True)
    script = tmp_path / "scenario.py"
    script.write_text(SCENARIO)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    proc = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable,
                           str(script), str(script), str(proj), json.dumps(calctl_argv)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["first"] == 0
    assert out["alive"] == [True, True]
    # unauthentic records are left alone; authentic ones are used up
    assert out["left"] == ["verify-aa.procs", "verify-bb.procs"]
    assert out["second"] == 0
    assert out["mine"] == -signal.SIGKILL
    assert out["others_alive"] is True


def test_verify_naming_calctl_works_without_calctl_on_path(calctl: Any, proj: Path) -> None:
    path = "/usr/bin:/bin"
    assert not any(Path(d, "calctl").exists() for d in path.split(":"))
    assert Path(sys.executable).parent.as_posix() not in path
    result = apply(calctl, proj, "--verify", "calctl --version", env={"PATH": path})
    assert result.returncode == 0, result.stdout + result.stderr
    run = result.json()["verification"][0]
    assert (result.json()["status"], run["returncode"]) == ("verified", 0)
    assert run["command"] == "calctl --version"


def test_verify_naming_calctl_runs_the_installed_one_not_the_repository_s(
        calctl: Any, proj: Path, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    fake = proj / "calctl"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(f"open({str(pwned)!r}, 'w').write('ran')\n")
    result = apply(calctl, proj, "--verify", "calctl --version", env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.json()["status"] == "verified"
    assert not pwned.exists()
