"""Verification attacked again (hostile review of issue 10: M1, M3a, M4), for real.

Real ``calctl patch apply`` processes run verify commands that leave calctl's
cgroup, write output without end, or carry a password on their command line.
Processes are found by a unique argv marker in /proc; only those are killed
should a test fail.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from calctl.processes import OUTPUT_CAP

CALC = "def add(a, b):\n    return a - b\n"
FIX = {"kind": "patch", "version": 1, "description": "fix add",
       "edits": [{"op": "replace", "path": "app/calc.py", "search": "a - b",
                  "replace": "a + b"}]}


@pytest.fixture
def proj(project: Path) -> Path:
    (project / ".git").mkdir()
    (project / "app").mkdir()
    (project / "app" / "calc.py").write_text(CALC)
    return project


@pytest.fixture
def marker() -> Iterator[Callable[[], str]]:
    """Unique ``sleep`` durations to find our processes by argv; whatever a failing
    test leaves behind (and only that) is killed at the end."""
    made: list[str] = []

    def make(whole: int = 301) -> str:
        made.append(f"{whole}.{secrets.randbelow(10**6):06d}")
        return made[-1]

    yield make
    for mark in made:
        for pid in pids_with(mark):
            os.kill(pid, signal.SIGKILL)


def pids_with(mark: str) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if any(mark.encode() in arg for arg in argv) and state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def apply(calctl: Any, proj: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return calctl("patch", "apply", "-", "--json", *args, cwd=proj, input=json.dumps(FIX),
                  env=env, timeout=90)


# ------------------------------------------------------------- M1: leaving the cgroup


def _cgroup2() -> tuple[Path, str]:
    """The cgroup2 mount and this process's cgroup in it."""
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split(" ", 1)[0] == "cgroup2":
            mount = Path(left.split()[4])
            break
    else:
        pytest.fail("no cgroup2 mount: this test needs one (CI has it)")
    mine = next(x[4:] for x in Path("/proc/self/cgroup").read_text().splitlines()
                if x.startswith("0::/"))
    return mount, mine


def test_a_process_that_leaves_the_cgroup_is_still_ended(calctl: Any, proj: Path,
                                                         tmp_path: Path, marker: Any) -> None:
    """The review's esc.sh: a ``setsid`` grandchild writes its pid into another cgroup's
    ``cgroup.procs`` (root may), so ``cgroup.kill`` misses it; the sweep must not."""
    if os.geteuid() != 0:
        pytest.fail("moving a process between cgroups needs root (CI runs as root)")
    mount, mine = _cgroup2()
    outside = mount / mine.lstrip("/") / "cgroup.procs"
    before, after = tmp_path / "before", tmp_path / "after"
    mark = marker()
    inner = (f"cat /proc/self/cgroup > {before}; echo $$ > {outside}; "
             f"cat /proc/self/cgroup > {after}; exec sleep {mark}")
    (tmp_path / "esc.sh").write_text(
        f"( setsid sh -c '{inner}' & )\n"
        # exit only once the escape is done, so calctl's sweep comes after it
        f"while [ ! -s {after} ]; do sleep 0.01; done\n")
    result = apply(calctl, proj, "--verify", f"sh {tmp_path / 'esc.sh'}",
                   "--verify-timeout", "20")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.json()["status"] == "verified"
    # the attack happened: it ran in calctl's cgroup, then left it
    assert "/calctl-" in before.read_text(), "calctl made no cgroup: nothing to escape"
    assert "/calctl-" not in after.read_text()
    deadline = time.monotonic() + 5
    while pids_with(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pids_with(mark) == [], "the process that left the cgroup survived patch apply"


# ------------------------------------------------------------- M4: output without end


def _watch_output(mark: str, stop: threading.Event, sizes: list[int]) -> None:
    """How much what the ``yes`` writes its output into holds, as often as we can."""
    while not stop.is_set():
        for pid in pids_with(mark):
            try:
                sizes.append(os.stat(f"/proc/{pid}/fd/1").st_size)
            except OSError:
                pass
        time.sleep(0.01)


@pytest.mark.parametrize("env", [pytest.param({}, id="default"),
                                 pytest.param({"CALCTL_CGROUP": "0"}, id="no-cgroup")])
def test_endless_output_stays_under_the_cap(calctl: Any, proj: Path, marker: Any,
                                            env: dict[str, str]) -> None:
    mark = marker()
    sizes: list[int] = []
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_output, args=(mark, stop, sizes))
    watcher.start()
    try:
        result = apply(calctl, proj, "--verify", f"yes {mark}", "--verify-timeout", "3",
                       env=env)
    finally:
        stop.set()
        watcher.join()
    assert result.returncode == 1, result.stdout + result.stderr
    data = result.json()
    assert data["status"] == "rolled_back"
    run = data["verification"][0]
    assert run["timed_out"] is True
    assert (proj / "app" / "calc.py").read_text() == CALC
    # into a temporary file, `yes` wrote hundreds of MB a second (650 MB in 1.1 s);
    # whatever its stdout is now, it never holds more than the cap
    assert len(sizes) > 10, "never saw the command's output"
    assert max(sizes) <= OUTPUT_CAP, max(sizes) // 2**20
    assert run["output_tail"].startswith("[… at least "), run["output_tail"][:200]
    assert "bytes of output dropped …]" in run["output_tail"].split("\n", 1)[0]
    assert run["output_tail"].split("\n")[1:3] == [mark, mark]
    assert pids_with(mark) == []


# ------------------------------------------------------------- M3a: verify command lines

SECRET = "TopSecretD"
URL = f"postgresql://u:{SECRET}@h/db"


def _everything(proj: Path) -> str:
    """Every file under the project, and every row of the local store, as text."""
    texts = [p.read_bytes().decode("utf-8", "replace")
             for p in proj.rglob("*") if p.is_file() and p.suffix != ".db"]
    db = sqlite3.connect(proj / ".calctl" / "calctl.db")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert {"calctl_events", "guardian_patch_applications"} <= set(tables)
        texts += [str(db.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables]
    finally:
        db.close()
    return "\n".join(texts)


def test_a_password_on_a_verify_command_line_leaks_nowhere(calctl: Any, proj: Path) -> None:
    outputs = []
    # the review's case: a command that fails, with a URL among its words
    failed = apply(calctl, proj, "--verify", f"false {URL}")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert failed.json()["verification"][0]["command"] == "false postgresql://u:***@h/db"
    outputs.append(failed.stdout + failed.stderr)
    human = calctl("patch", "apply", "-", "--verify", f"sh -c 'echo {URL}; exit 3'",
                   cwd=proj, input=json.dumps(FIX))
    assert human.returncode == 1
    assert "postgresql://u:***@h/db" in human.stdout + human.stderr
    outputs.append(human.stdout + human.stderr)
    # verified: the command is in the patch.verified event and the row
    ok = apply(calctl, proj, "--verify", f"sh -c ': {URL}'")
    assert ok.returncode == 0 and ok.json()["status"] == "verified", ok.stdout + ok.stderr
    outputs.append(ok.stdout + ok.stderr)
    # refused: a verify command names a file the patch edits, and the reason quotes it
    refused = apply(calctl, proj, "--verify", f"python3 app/calc.py {URL}")
    assert refused.returncode == 1 and refused.json()["status"] == "refused"
    assert "postgresql://u:***@h/db" in refused.stdout
    outputs.append(refused.stdout + refused.stderr)
    # a command that cannot be parsed is named in the error
    unparsed = apply(calctl, proj, "--verify", f"'psql {URL}")
    assert unparsed.returncode == 2
    outputs.append(unparsed.stdout + unparsed.stderr)

    patches = calctl("patch", "list", "--json", cwd=proj)
    assert patches.returncode == 0
    outputs.append(patches.stdout)
    for patch in patches.json()["patches"] if isinstance(patches.json(), dict) \
            else patches.json():
        pid = patch.get("patch_id") or patch.get("id")
        for args in (("patch", "show", pid), ("patch", "show", pid, "--json")):
            shown = calctl(*args, cwd=proj)
            assert shown.returncode == 0, shown.stderr
            outputs.append(shown.stdout + shown.stderr)
    events = calctl("events", "--json", cwd=proj)
    outputs.append(events.stdout + events.stderr)
    for text in outputs:
        assert SECRET not in text, text
    stored = _everything(proj)
    assert "patch.verified" in stored and "patch.rolled_back" in stored
    assert SECRET not in stored
