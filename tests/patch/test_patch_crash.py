"""Concurrency and crashes: one patch at a time; kill -9 at any moment is recoverable."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from patch_helpers import calctl_argv, cli_env, dirs, patch_doc, read_record, temp_files, tree

FIX_ADD = {"op": "replace", "path": "app/calc.py", "search": "a - b", "replace": "a + b"}
FIX_MUL = {"op": "replace", "path": "app/calc.py", "search": "a * b", "replace": "b * a"}
WIDE = [
    FIX_ADD,
    {"op": "replace", "path": "windows.txt", "search": "second\n", "replace": "2nd\n"},
    {"op": "create", "path": "pkg/deep/new.py", "content": "NEW = True\n"},
    {"op": "delete", "path": "secret.cfg"},
    {"op": "rename", "path": "run.sh", "to": "bin/run.sh"},
    {"op": "line", "path": "app/__init__.py", "line": 1, "old": "", "new": "VERSION = 2"},
]


def _start(proj: Path, patch_file: Path, *args: str,
           capture: bool = False) -> subprocess.Popen[bytes]:
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [*calctl_argv(), "patch", "apply", str(patch_file), "--json", *args],
        cwd=proj, env=cli_env(), stdout=out, stderr=out, start_new_session=True)


def _wait_for(predicate: Any, timeout: float = 20.0, poll: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(poll)


def _journal_phase(proj: Path) -> str | None:
    journals = list((proj / ".calctl" / "journal").glob("*.json")) \
        if (proj / ".calctl" / "journal").is_dir() else []
    if not journals:
        return None
    try:
        return str(read_record(journals[0])["phase"])
    except (ValueError, OSError, AssertionError):
        return None


def test_second_apply_waits_then_exits_3(calctl: Any, proj: Path, tmp_path: Path) -> None:
    first_file = tmp_path / "first.json"
    first_file.write_text(patch_doc(FIX_ADD))
    first = _start(proj, first_file, "--verify", "sleep 2", capture=True)
    try:
        _wait_for(lambda: _journal_phase(proj) == "verifying")
        started = time.monotonic()
        second = calctl("patch", "apply", "-", "--json", "--lock-timeout", "0.5",
                        "--no-verify", cwd=proj, input=patch_doc(FIX_MUL))
        waited = time.monotonic() - started
        assert second.returncode == 3, second.stdout + second.stderr
        assert second.json()["code"] == "locked"
        assert f"process {first.pid}" in second.json()["message"]
        assert waited >= 0.5
    finally:
        out, err = first.communicate(timeout=30)
    assert first.returncode == 0, err
    assert json.loads(out)["status"] == "verified"
    assert "b * a" not in (proj / "app" / "calc.py").read_text()


def test_second_apply_waits_for_the_first(calctl: Any, proj: Path, tmp_path: Path) -> None:
    first_file = tmp_path / "first.json"
    first_file.write_text(patch_doc(FIX_ADD))
    first = _start(proj, first_file, "--verify", "sleep 3", capture=True)
    _wait_for(lambda: _journal_phase(proj) == "verifying")
    second = calctl("patch", "apply", "-", "--json", "--lock-timeout", "30", "--verify",
                    "true", cwd=proj, input=patch_doc(FIX_MUL))
    out, _ = first.communicate(timeout=30)
    assert json.loads(out)["status"] == "verified"
    assert second.returncode == 0, second.stdout
    assert second.json()["timings"]["lock"] > 0.3
    text = (proj / "app" / "calc.py").read_text()
    assert "a + b" in text and "b * a" in text


def test_apply_recovers_an_interrupted_patch_first(calctl: Any, proj: Path,
                                                   tmp_path: Path) -> None:
    before = tree(proj)
    patch_file = tmp_path / "wide.json"
    patch_file.write_text(patch_doc(*WIDE))
    proc = _start(proj, patch_file, "--verify", "sleep 30")
    _wait_for(lambda: _journal_phase(proj) == "verifying")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert tree(proj) != before
    result = calctl("patch", "apply", "-", "--json", "--no-verify", cwd=proj,
                    input=patch_doc({"op": "create", "path": "other.txt", "content": "o\n"}))
    assert result.returncode == 0, result.stdout
    assert result.json()["notes"][0].startswith("recovered interrupted patch")
    after = tree(proj)
    del after["other.txt"]
    assert after == before
    events = [json.loads(x)["type"] for x in
              (proj / ".calctl" / "events.jsonl").read_text().splitlines()]
    assert "patch.recovered" in events


@pytest.mark.slow
def test_kill_9_at_random_moments_then_recover(calctl: Any, proj: Path,
                                               tmp_path: Path) -> None:
    before, before_dirs = tree(proj), dirs(proj)
    patch_file = tmp_path / "wide.json"
    patch_file.write_text(patch_doc(*WIDE))
    seed = int(os.environ.get("CALCTL_CRASH_SEED", time.time_ns() % 10_000))
    rng = random.Random(seed)
    journal_dir = proj / ".calctl" / "journal"
    seen: Counter[str] = Counter()
    for trial in range(30):
        proc = _start(proj, patch_file, "--verify", "sleep 5")
        if trial % 3 == 0:
            # blind: anywhere from interpreter start-up to well into verification
            time.sleep(rng.uniform(0, 1.5))
        else:
            # aimed: a few milliseconds after the journal appears (snapshot, writes)
            _wait_for(lambda: journal_dir.is_dir() and any(journal_dir.glob("*.json")),
                      poll=0.001)
            time.sleep(rng.uniform(0, 0.03))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        seen[_journal_phase(proj) or "none"] += 1
        recovered = calctl("patch", "recover", "--json", cwd=proj)
        assert recovered.returncode == 0, f"seed {seed} trial {trial}: {recovered.stderr}"
        assert tree(proj) == before, f"seed {seed} trial {trial}"
        assert dirs(proj) == before_dirs, f"seed {seed} trial {trial}"
        assert temp_files(proj) == [], f"seed {seed} trial {trial}"
        assert not list((proj / ".calctl" / "journal").glob("*")), f"seed {seed}"
        if trial % 10 == 0:
            again = calctl("patch", "recover", "--json", cwd=proj)
            assert again.json()["recovered"] == []
    assert seen["verifying"] > 0, seen
    print(f"crash trials (seed {seed}): journal phase at the kill: {dict(seen)}")


def test_list_show_and_recover_an_interrupted_patch(calctl: Any, proj: Path,
                                                     tmp_path: Path) -> None:
    before = tree(proj)
    patch_file = tmp_path / "wide.json"
    patch_file.write_text(patch_doc(*WIDE))
    proc = _start(proj, patch_file, "--verify", "sleep 30")
    _wait_for(lambda: _journal_phase(proj) == "verifying")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    listed = calctl("patch", "list", "--json", cwd=proj).json()["patches"]
    assert listed[0]["status"] == "in flight (verifying)" and listed[0]["in_flight"]
    patch_id = listed[0]["patch_id"]
    shown = calctl("patch", "show", patch_id, "--json", cwd=proj).json()
    assert shown["in_flight"] is True
    assert [p["phase"] for p in shown["phases"]][-1] == "verifying"
    recovered = calctl("patch", "recover", cwd=proj)
    assert recovered.returncode == 0
    assert f"{patch_id}: rolled back — interrupted in phase verifying" in recovered.stdout
    assert tree(proj) == before
    assert calctl("patch", "recover", cwd=proj).stdout.strip() == "nothing to recover"
    shown = calctl("patch", "show", patch_id, "--json", cwd=proj).json()
    assert shown["status"] == "rolled_back" and not shown["in_flight"]
