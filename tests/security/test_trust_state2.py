"""Issue 10, after the hostile review: names planted in the project or the state directory
are never written through (S1, S2), a planted events.jsonl neither hangs nor exhausts
calctl (M2), a signal during verification rolls the patch back (M5), and hostile input
is bad input, not a crash (minor findings).

Every test performs the attack with the real ``calctl`` and checks that nothing outside
the project changed, the files are as before, and the exit code is the documented one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from support import files_and_links

HELLO = "hello\n"


def _doc(replace: str = "patched\n", path: str = "app.txt") -> str:
    return json.dumps({"kind": "patch", "version": 1, "description": "t",
                       "edits": [{"op": "replace", "path": path, "search": HELLO,
                                  "replace": replace}]})


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    home = tmp_path / "outside"
    home.mkdir()
    (home / ".bashrc").write_text("export SAFE=1\n")
    (home / ".bashrc").chmod(0o644)
    return home


@pytest.fixture
def proj(project: Path) -> Path:
    (project / "app.txt").write_text(HELLO)
    return project


def _in_flight(root: Path) -> list[Path]:
    journal = root / ".calctl" / "journal"
    return sorted(journal.glob("*.json")) if journal.is_dir() else []


def _final_journal(root: Path, patch_id: str) -> dict[str, Any]:
    raw = (root / ".calctl" / "snapshots" / patch_id / "journal.json").read_bytes()
    return json.loads(raw.partition(b"\n")[2])  # type: ignore[no-any-return]


def _events(root: Path) -> list[dict[str, Any]]:
    path = root / ".calctl" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _wait_for_phase(root: Path, phase: str, proc: subprocess.Popen[bytes],
                    timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        for path in _in_flight(root):
            try:
                if json.loads(path.read_bytes().partition(b"\n")[2])["phase"] == phase:
                    return path.stem
            except (ValueError, KeyError, OSError):
                pass
        time.sleep(0.02)
    raise AssertionError(f"no journal reached {phase} (calctl exit {proc.poll()})")


def _start_apply(argv: list[str], root: Path, *args: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([*argv, "patch", "apply", *args, "-"], cwd=root, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdin is not None
    proc.stdin.write(_doc().encode())
    proc.stdin.close()
    proc.stdin = None  # closed: communicate() must not flush it
    return proc


def _sleepers(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and cmdline.replace(b"\0", b" ").strip() == marker.encode():
                found.append(int(entry))
    return found


# ------------------------------------------------------------------ S1: temp names


def test_rollback_never_writes_through_a_link_at_a_temp_name(calctl: Any, tmp_path: Path,
                                                             outside: Path) -> None:
    """The review's repro B: a checkout made under umask 0 (everyone may create entries in
    it); someone plants links where calctl used to stage its writes, then the owner rolls
    a patch back. The victim keeps its bytes and mode; the file is restored as a file."""
    root = tmp_path / "shared"
    old = os.umask(0)
    try:
        root.mkdir(mode=0o777)
        (root / "calctl.toml").write_text("")
        (root / "app.txt").write_text(HELLO)
    finally:
        os.umask(old)
    applied = calctl("patch", "apply", "--no-verify", "--json", "-", cwd=root, input=_doc())
    assert applied.returncode == 0, applied.stderr
    patch_id = applied.json()["patch_id"]
    victim = outside / ".bashrc"
    # every name an attacker can know in advance: the fixed one calctl used, and guesses
    for name in (f".app.txt.calctl-{patch_id}.tmp", f".app.txt.calctl-{patch_id}-0.tmp",
                 f".app.txt.calctl-{patch_id}-{'0' * 16}.tmp"):
        (root / name).symlink_to(victim)
    before = files_and_links(outside)

    result = calctl("patch", "rollback", patch_id, cwd=root)
    assert result.returncode == 0, result.stderr
    assert files_and_links(outside) == before
    restored = root / "app.txt"
    assert not restored.is_symlink() and restored.read_text() == HELLO
    assert not any(p.name.startswith(".app.txt.calctl-") and not p.is_symlink()
                   for p in root.iterdir())  # no temp file of ours left behind


def test_recover_removes_planted_temp_links_without_following(
        calctl: Any, calctl_argv: list[str], proj: Path, outside: Path) -> None:
    """A crash left a patch in flight; names shaped like calctl's temp files are planted
    beside the patched file: a link (to a victim) and a directory. Recovery unlinks the
    link itself, never what it points to, and leaves the directory alone."""
    proc = _start_apply(calctl_argv, proj, "--verify", "sleep 61.25")
    try:
        patch_id = _wait_for_phase(proj, "verifying", proc)
    finally:
        proc.kill()
        proc.communicate()
        for pid in _sleepers("sleep 61.25"):
            os.kill(pid, signal.SIGKILL)
    link = proj / f".app.txt.calctl-{patch_id}-{'a' * 16}.tmp"
    link.symlink_to(outside / ".bashrc")
    directory = proj / f".app.txt.calctl-{patch_id}-{'b' * 16}.tmp"
    directory.mkdir()
    (directory / "keep").write_text("mine\n")
    before = files_and_links(outside)

    result = calctl("patch", "recover", cwd=proj)
    assert result.returncode == 0, result.stderr
    assert not link.is_symlink()
    assert (directory / "keep").read_text() == "mine\n"
    assert files_and_links(outside) == before
    assert (proj / "app.txt").read_text() == HELLO


@pytest.mark.parametrize("plant", ["displaced-dir-link", "displaced-file-link"])
def test_forced_rollback_keeps_displaced_content_without_following_links(
        calctl: Any, proj: Path, outside: Path, plant: str) -> None:
    """Content edited after a patch is saved under snapshots/<id>/displaced/ before a
    forced rollback: a link planted there (the directory, or the file's name) is never
    written through."""
    applied = calctl("patch", "apply", "--no-verify", "--json", "-", cwd=proj, input=_doc())
    assert applied.returncode == 0, applied.stderr
    patch_id = applied.json()["patch_id"]
    (proj / "app.txt").write_text("edited since\n")
    displaced = proj / ".calctl" / "snapshots" / patch_id / "displaced"
    if plant == "displaced-dir-link":
        displaced.symlink_to(outside)
    else:
        displaced.mkdir()
        (displaced / "0").symlink_to(outside / ".bashrc")
    before = files_and_links(outside)

    result = calctl("patch", "rollback", "--force", patch_id, cwd=proj)
    assert files_and_links(outside) == before
    if plant == "displaced-dir-link":
        assert result.returncode == 3, (result.stdout, result.stderr)
        assert "links" in result.stderr and str(displaced) in result.stderr
        assert (proj / "app.txt").read_text() == "edited since\n"  # nothing lost
    else:
        assert result.returncode == 0, result.stderr
        assert (proj / "app.txt").read_text() == HELLO
        assert not (displaced / "0").is_symlink()
        assert (displaced / "0").read_text() == "edited since\n"


# ------------------------------------------------------------------ S2: .gitignore


@pytest.mark.parametrize("command", [("migrate", "order"), ("patch", "apply", "--no-verify",
                                                            "-")])
def test_dangling_gitignore_link_creates_nothing(calctl: Any, proj: Path, outside: Path,
                                                 command: tuple[str, ...]) -> None:
    (proj / "migrations" / "001_init.sql").write_text("CREATE TABLE t (id int);\n")
    state = proj / ".calctl"
    state.mkdir(mode=0o700)
    target = outside / "created-by-calctl"
    (state / ".gitignore").symlink_to(target)
    result = calctl(*command, cwd=proj, input=_doc())
    assert not target.exists() and not target.is_symlink()
    if command[0] == "patch":
        assert result.returncode == 3, (result.stdout, result.stderr)
        assert ".gitignore is a symbolic link" in result.stderr
        assert (proj / "app.txt").read_text() == HELLO
    else:
        assert result.returncode == 0, result.stderr


def test_gitignore_made_only_when_absent(calctl: Any, proj: Path) -> None:
    state = proj / ".calctl"
    state.mkdir(mode=0o700)
    (state / ".gitignore").write_text("# mine\n")
    assert calctl("patch", "apply", "--no-verify", "-", cwd=proj,
                  input=_doc()).returncode == 0
    assert (state / ".gitignore").read_text() == "# mine\n"
    fresh = proj / "other"
    fresh.mkdir()
    (fresh / "calctl.toml").write_text("")
    (fresh / "app.txt").write_text(HELLO)
    assert calctl("patch", "apply", "--no-verify", "-", cwd=fresh,
                  input=_doc()).returncode == 0
    assert (fresh / ".calctl" / ".gitignore").read_text() == "*\n"


# ------------------------------------------------------------------ M2: events.jsonl


def _plant_events(proj: Path, kind: str) -> Path:
    state = proj / ".calctl"
    state.mkdir(mode=0o700, exist_ok=True)
    path = state / "events.jsonl"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


@pytest.mark.parametrize("kind", ["fifo", "devzero-link"])
def test_planted_event_log_refuses_the_patch_before_writing(calctl: Any, proj: Path,
                                                            kind: str) -> None:
    """Before the fix a FIFO hung `patch apply` after the patch was written (journal left
    at `applied`). Now it is exit 3 naming the file, before any project file changes."""
    path = _plant_events(proj, kind)
    result = calctl("patch", "apply", "--verify", "false", "-", cwd=proj, input=_doc(),
                    timeout=60)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert str(path) in result.stderr
    assert (proj / "app.txt").read_text() == HELLO
    assert _in_flight(proj) == []
    recovered = calctl("patch", "recover", cwd=proj, timeout=60)
    assert recovered.returncode in (0, 3), recovered.stderr
    assert (proj / "app.txt").read_text() == HELLO


@pytest.mark.parametrize("kind", ["fifo", "devzero-link"])
def test_events_command_refuses_a_planted_log_at_once(calctl: Any, proj: Path,
                                                      kind: str) -> None:
    path = _plant_events(proj, kind)
    started = time.monotonic()
    result = calctl("events", cwd=proj, timeout=60)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert str(path) in result.stderr and result.stderr.count("\n") <= 3
    assert time.monotonic() - started < 30


def test_events_skips_an_endless_line(calctl: Any, proj: Path) -> None:
    """A regular file with one line far longer than any event (no newline for 8 MiB) and
    a real event after it: the event is shown, the rest skipped."""
    assert calctl("patch", "apply", "--no-verify", "-", cwd=proj, input=_doc()).returncode == 0
    path = proj / ".calctl" / "events.jsonl"
    real = path.read_bytes()
    path.write_bytes(b"x" * (8 << 20) + b"\n" + real)
    result = calctl("events", "--json", cwd=proj)
    assert result.returncode == 0, result.stderr
    types = [json.loads(line)["type"] for line in result.stdout.splitlines()]
    assert "patch.applied" in types


# ------------------------------------------------------------------ M5: signals


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_during_verification_rolls_back(calctl: Any, calctl_argv: list[str],
                                               proj: Path, signum: int) -> None:
    marker = f"sleep 3{signum}.5"
    proc = _start_apply(calctl_argv, proj, "--verify", marker)
    try:
        patch_id = _wait_for_phase(proj, "verifying", proc)
        assert (proj / "app.txt").read_text() == "patched\n"
        proc.send_signal(signum)  # calctl alone, as `kill` would
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 128 + signum, err
    text = err.decode()
    assert f"patch {patch_id} interrupted by {signal.Signals(signum).name}" in text
    assert "rolled back" in text
    assert (proj / "app.txt").read_text() == HELLO
    assert _in_flight(proj) == []
    assert _final_journal(proj, patch_id)["phase"] == "rolled_back"
    assert any(e["type"] == "patch.rolled_back" and e["subject"] == patch_id
               for e in _events(proj))
    listed = calctl("patch", "list", "--json", cwd=proj)
    row = next(p for p in listed.json()["patches"] if p["patch_id"] == patch_id)
    assert row["status"] == "rolled_back"
    assert _sleepers(marker) == []
    again = calctl("patch", "recover", "--json", cwd=proj)
    assert again.returncode == 0 and again.json()["recovered"] == []


# ------------------------------------------------------------------ minor: hostile input


def _deep(depth: int = 100_000) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("how", ["file", "stdin", "dry-run"])
def test_deeply_nested_patch_is_bad_input(calctl: Any, proj: Path, how: str) -> None:
    deep = proj / "deep.json"
    deep.write_text(_deep())
    args = {"file": [str(deep)], "stdin": ["-"], "dry-run": ["--dry-run", str(deep)]}[how]
    result = calctl("patch", "apply", "--no-verify", *args, cwd=proj, input=_deep())
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "nested too deeply" in result.stderr and "internal error" not in result.stderr
    assert (proj / "app.txt").read_text() == HELLO


@pytest.mark.parametrize("body", ["deep", "bool-version"])
def test_bad_plan_document_is_bad_input(calctl: Any, proj: Path, body: str) -> None:
    plan = proj / "plan.json"
    plan.write_text(_deep() if body == "deep"
                    else json.dumps({"kind": "migration-plan", "version": True}))
    result = calctl("migrate", "apply", "--database-url", "postgresql://u@127.0.0.1:1/x",
                    "--plan", str(plan), cwd=proj)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert str(plan) in result.stderr
    assert ("nested too deeply" if body == "deep" else "version") in result.stderr


def test_bool_version_patch_is_bad_input(calctl: Any, proj: Path) -> None:
    doc = json.loads(_doc())
    doc["version"] = True
    result = calctl("patch", "apply", "--no-verify", "-", cwd=proj, input=json.dumps(doc))
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "version" in result.stderr
    assert (proj / "app.txt").read_text() == HELLO


def test_deeply_nested_config_names_the_file(calctl: Any, proj: Path) -> None:
    config = proj / "calctl.toml"
    config.write_text("a = " + "[" * 3000 + "]" * 3000 + "\n")
    result = calctl("migrate", "order", cwd=proj)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert str(config) in result.stderr and "nested too deeply" in result.stderr


@pytest.mark.parametrize("where", ["top", "nested", "rename-to"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_overlong_path_component_is_refused(calctl: Any, proj: Path, where: str,
                                            dry_run: bool) -> None:
    long = "x" * 300
    edit: dict[str, Any] = {"op": "create", "path": long, "content": "x\n"}
    if where == "nested":
        edit["path"] = f"d/{long}/f.txt"
    elif where == "rename-to":
        edit = {"op": "rename", "path": "app.txt", "to": long}
    doc = json.dumps({"kind": "patch", "version": 1, "edits": [edit]})
    before = files_and_links(proj)
    result = calctl("patch", "apply", "--no-verify", *(["--dry-run"] if dry_run else []), "-",
                    cwd=proj, input=doc)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "300 bytes" in result.stderr
    after = {k: v for k, v in files_and_links(proj).items() if not k.startswith(".calctl/")}
    assert after == before
    assert _in_flight(proj) == []


@pytest.mark.parametrize("source", ["/dev/zero", "stdin"])
def test_endless_patch_input_is_refused_after_the_limit(calctl: Any, proj: Path,
                                                        source: str) -> None:
    """`patch apply /dev/zero` read forever (SIGKILLed by the OOM killer): now it reads
    4 × max_patch_bytes + 1 MiB + 1 bytes and stops."""
    (proj / "calctl.toml").write_text("[patch]\nmax_patch_bytes = 100000\n")
    if source == "stdin":
        result = calctl("patch", "apply", "--no-verify", "-", cwd=proj,
                        input="{" + " " * 5_000_000 + "}", timeout=60)
    else:
        result = calctl("patch", "apply", "--no-verify", source, cwd=proj, timeout=60)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert f"larger than {4 * 100000 + (1 << 20)} bytes" in result.stderr
    assert (proj / "app.txt").read_text() == HELLO
