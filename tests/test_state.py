"""The state directory layout and exclusive file locks across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from calctl.errors import ExitCode, LockedError, StateError
from calctl.state import StateDir

HOLDER = """
import sys, time
from pathlib import Path
from calctl.state import StateDir
with StateDir(Path(sys.argv[1])).lock("heal", purpose="heal"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_ensure_creates_layout(tmp_path: Path) -> None:
    state = StateDir(tmp_path / ".calctl").ensure()
    for sub in ("snapshots", "journal", "cache", "locks"):
        assert (state.path / sub).is_dir()
    assert (state.path / ".gitignore").read_text() == "*\n"


def test_ensure_unwritable_path(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(StateError) as info:
        StateDir(tmp_path / "f" / "state").ensure()
    assert info.value.exit_code == ExitCode.STATE
    assert str(tmp_path / "f" / "state") in info.value.message


def test_second_holder_waits_then_names_the_first(tmp_path: Path) -> None:
    state = StateDir(tmp_path / ".calctl").ensure()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state.path), "3"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(LockedError) as info, state.lock("heal", timeout=0.5):
            pass
        assert time.monotonic() - started >= 0.5
        assert f"process {proc.pid}" in info.value.message
        assert "since" in info.value.message
        assert info.value.exit_code == ExitCode.STATE
    finally:
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    with state.lock("heal", timeout=0):  # released when the holder exits
        pass


def test_waiter_gets_the_lock_when_released(tmp_path: Path) -> None:
    state = StateDir(tmp_path / ".calctl").ensure()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(state.path), "0.5"],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with state.lock("heal", timeout=10):
            holder = (state.locks / "heal.lock").read_text()
            assert f'"pid": {os.getpid()}' in holder
    finally:
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
