"""Verification attacked again (hostile review of issue 10: M1, M3a, M4), for real.

Real ``calctl patch apply`` processes run verify commands that leave calctl's
cgroup, write output without end, or carry a password on their command line.
Processes are found by a unique argv marker in /proc; only those are killed
should a test fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from calctl.processes import OUTPUT_CAP
from support import pids_with

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
    mark = marker(301)
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
            with contextlib.suppress(OSError):
                sizes.append(os.stat(f"/proc/{pid}/fd/1").st_size)
        time.sleep(0.01)


@pytest.mark.parametrize("env", [pytest.param({}, id="default"),
                                 pytest.param({"CALCTL_CGROUP": "0"}, id="no-cgroup")])
def test_endless_output_stays_under_the_cap(calctl: Any, proj: Path, marker: Any,
                                            env: dict[str, str]) -> None:
    mark = marker(301)
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


# ------------------------------------------------------------- M3b-d: awkward secrets

EXIT_USAGE, EXIT_EXTERNAL = 2, 4


def _repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    (tmp_path / "migrations").mkdir(exist_ok=True)
    (tmp_path / "migrations" / "001_a.sql").write_text("create table a (id int);\n")
    return tmp_path


def test_a_password_of_digits_and_a_slash_is_a_password(calctl: Any, tmp_path: Path) -> None:
    """``app:2024/Winter-Secret@db`` looked like host app, port 2024, path /Winter-…"""
    root = _repo(tmp_path)
    url = "postgresql://app:2024/Winter-Secret@127.0.0.1:1/app"
    (root / "calctl.toml").write_text(f'database_url = "{url}"\n')
    for args in (("config", "check", "--json"), ("config", "show", "--json")):
        refused = calctl(*args, cwd=root)
        assert refused.returncode == EXIT_USAGE, refused.stdout
        assert refused.json()["code"] == "config-secret"
        assert "Winter" not in refused.stdout + refused.stderr
    (root / "calctl.toml").unlink()
    shown = calctl("config", "show", "--json", cwd=root, env={"CALCTL_STORE_URL": url})
    assert shown.json()["settings"]["store_url"]["value"] == \
        "postgresql://app:***@127.0.0.1:1/app"
    failed = calctl("migrate", "status", "--json", "--database-url", url, cwd=root)
    assert failed.returncode in (EXIT_USAGE, EXIT_EXTERNAL), failed.stdout + failed.stderr
    store = calctl("--store-url", url, "patch", "list", cwd=root)
    assert store.returncode in (EXIT_USAGE, EXIT_EXTERNAL)
    for text in (shown.stdout, failed.stdout, failed.stderr, store.stdout, store.stderr):
        assert "Winter" not in text and "2024/" not in text, text


def test_web_urls_with_an_at_in_path_or_query_are_still_no_secret(calctl: Any,
                                                                  tmp_path: Path) -> None:
    """The other side of the scheme rule: a port, a path and an "@" in a web URL."""
    root = _repo(tmp_path)
    (root / "calctl.toml").write_text(
        '[guard]\nchecks = [{name = "api", type = "http", '
        'url = "http://h:8000/x?to=ops@example.com"},\n'
        '  {name = "b", type = "http", url = "https://h:8443/users/@me"}]\n')
    shown = calctl("config", "show", "--json", cwd=root)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    urls = [c["url"] for c in shown.json()["settings"]["guard.checks"]["value"]]
    assert urls == ["http://h:8000/x?to=ops@example.com", "https://h:8443/users/@me"]


@pytest.mark.parametrize("text", [
    'defines = {"postgresql://u:KEYSECRET@h/db" = "x"}',
    '[migrate.defines]\n"postgresql://u:KEYSECRET@h/db" = "x"',
    'defines = {ghp_KEYSECRET0123456789abcdefXYZ = "x"}',
])
def test_a_secret_in_a_table_key_is_refused(calctl: Any, tmp_path: Path, text: str) -> None:
    root = _repo(tmp_path)
    body = text if text.startswith("[") else f"[migrate]\n{text}"
    (root / "calctl.toml").write_text(body + "\n")
    for args in (("config", "check", "--json"), ("config", "show", "--json"),
                 ("config", "show")):
        refused = calctl(*args, cwd=root)
        assert refused.returncode == EXIT_USAGE, refused.stdout + refused.stderr
        assert "KEYSECRET" not in refused.stdout + refused.stderr
    doc = calctl("config", "check", "--json", cwd=root).json()
    assert doc["code"] == "config-secret"
    assert "calctl.toml:2: a key of setting migrate.defines holds a secret" in doc["message"]


@pytest.mark.parametrize("url", [
    "postgresql://u:Sec retPWX@127.0.0.1:1/db",
    "host=127.0.0.1 port=1 dbname=db user=u password=Sec retPWX",
])
def test_a_password_with_a_space_leaks_nowhere(calctl: Any, tmp_path: Path, url: str) -> None:
    """libpq refuses it and quotes it back: ``unexpected spaces found in "Sec retPWX"``."""
    root = _repo(tmp_path)
    outputs = []
    for args in (("migrate", "status", "--json", "--database-url", url),
                 ("migrate", "apply", "--database-url", url),
                 ("--store-url", url, "patch", "list"),
                 ("--store-url", url, "--json", "patch", "list")):
        failed = calctl(*args, cwd=root)
        assert failed.returncode in (EXIT_USAGE, EXIT_EXTERNAL), failed.stdout + failed.stderr
        assert "Traceback" not in failed.stderr
        outputs.append(failed.stdout + failed.stderr)
    shown = calctl("config", "show", "--json", cwd=root, env={"CALCTL_STORE_URL": url})
    assert shown.returncode == 0, shown.stderr
    outputs.append(shown.stdout + shown.stderr)
    # a patch to the migrations asks that database which files are applied: the
    # refusal reason is recorded in the events and the local store
    (root / "patch.json").write_text(json.dumps(
        {"kind": "patch", "version": 1, "description": "edit a migration",
         "edits": [{"op": "replace", "path": "migrations/001_a.sql", "search": "a (id",
                    "replace": "b (id"}]}))
    refused = calctl("patch", "apply", "--no-verify", "--json", "patch.json", cwd=root,
                     env={"DATABASE_URL": url})
    assert refused.returncode == 1, refused.stdout + refused.stderr
    outputs.append(refused.stdout + refused.stderr)
    for text in outputs:
        assert "retPWX" not in text and "Sec ret" not in text, text
    assert "retPWX" not in _everything(root)


# ------------------------------------------------------------- config check: protect, verify


@pytest.mark.parametrize(("text", "key", "why"), [
    ('[patch]\nprotect = ["docs/**", "\\\\"]\n', "patch.protect[1]", "gitignore pattern"),
    ('[patch]\nverify = ["pytest -q", "\\"unterminated"]\n', "patch.verify[1]",
     "cannot be split"),
    ('[patch]\nverify = [" "]\n', "patch.verify[0]", "empty"),
])
def test_config_check_refuses_what_patch_apply_cannot_use(calctl: Any, tmp_path: Path,
                                                          text: str, key: str,
                                                          why: str) -> None:
    root = _repo(tmp_path)
    (root / "app.txt").write_text("hello\n")
    (root / "calctl.toml").write_text(text)
    (root / "patch.json").write_text(json.dumps(
        {"kind": "patch", "version": 1, "description": "x",
         "edits": [{"op": "replace", "path": "app.txt", "search": "hello", "replace": "bye"}]}))
    checked = calctl("config", "check", "--json", cwd=root)
    assert checked.returncode == EXIT_USAGE, checked.stdout + checked.stderr
    doc = checked.json()
    assert doc["code"] == "config-value"
    assert f"calctl.toml:2: setting {key} (" in doc["message"] and why in doc["message"]
    for args in (("patch", "apply", "--json", "patch.json"),
                 ("patch", "apply", "--json", "--no-verify", "patch.json"),
                 ("patch", "apply", "--json", "--dry-run", "patch.json")):
        applied = calctl(*args, cwd=root)
        assert applied.returncode == EXIT_USAGE, applied.stdout + applied.stderr
        assert "Traceback" not in applied.stderr
    assert (root / "app.txt").read_text() == "hello\n"
    (root / "calctl.toml").unlink()
    env = calctl("config", "check", cwd=root, env={"CALCTL_PATCH_PROTECT": "\\"})
    assert env.returncode == EXIT_USAGE
    assert "environment variable CALCTL_PATCH_PROTECT" in env.stderr
