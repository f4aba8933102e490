"""``calctl patch apply`` and ``rollback`` end to end: real files, real subprocesses."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from patch_helpers import dirs, patch_doc, read_record, temp_files, tree, write

PY = sys.executable
CHECK_ADD = f"{PY} -c 'from app.calc import add; assert add(2, 2) == 4, add(2, 2)'"
FIX_ADD = {"op": "replace", "path": "app/calc.py", "search": "    return a - b\n",
           "replace": "    return a + b\n"}


def apply(calctl: Any, proj: Path, doc: str, *args: str, **kw: Any) -> Any:
    return calctl("patch", "apply", "-", "--json", *args, cwd=proj, input=doc, **kw)


def test_verified_patch_is_kept_and_recorded(calctl: Any, proj: Path) -> None:
    result = apply(calctl, proj, patch_doc(FIX_ADD), "--verify", CHECK_ADD)
    assert result.returncode == 0, result.stderr
    data = result.json()
    assert data["status"] == "verified"
    assert data["files"] == ["app/calc.py"]
    assert data["verification"][0]["returncode"] == 0
    assert "return a + b" in (proj / "app" / "calc.py").read_text()
    db = sqlite3.connect(proj / ".calctl" / "calctl.db")
    row = db.execute("SELECT status, success, rolled_back, verified_at, snapshot_id FROM "
                     "guardian_patch_applications WHERE patch_id = ?",
                     (data["patch_id"],)).fetchone()
    db.close()
    assert row[:3] == ("verified", 1, 0) and row[3] and row[4] == data["patch_id"]
    events = [json.loads(x)["type"] for x in
              (proj / ".calctl" / "events.jsonl").read_text().splitlines()]
    assert events == ["patch.applied", "patch.verified"]
    assert not list((proj / ".calctl" / "journal").glob("*.json"))
    manifest = read_record(proj / ".calctl" / "snapshots" / data["patch_id"] /
                           "manifest.json")
    assert manifest["entries"][0]["path"] == "app/calc.py"
    assert len(manifest["entries"][0]["sha256"]) == 64


def test_failed_verification_rolls_back_byte_for_byte(calctl: Any, proj: Path) -> None:
    before = tree(proj)
    broken = {"op": "replace", "path": "app/calc.py", "search": "    return a - b\n",
              "replace": "    return a * b + 1\n"}
    create = {"op": "create", "path": "app/new/mod.py", "content": "X = 1\n"}
    result = apply(calctl, proj, patch_doc(broken, create), "--verify", "true",
                   "--verify", CHECK_ADD)
    assert result.returncode == 1
    data = result.json()
    assert data["status"] == "rolled_back"
    assert "exited with 1" in data["reasons"][0]
    assert "AssertionError: 5" in data["verification_output"]
    assert [r["returncode"] for r in data["verification"]] == [0, 1]
    assert tree(proj) == before
    assert "app/new" not in dirs(proj)
    assert temp_files(proj) == []
    listed = calctl("patch", "list", "--json", cwd=proj).json()["patches"]
    assert listed[0]["status"] == "rolled_back" and listed[0]["rolled_back"] is True
    events = [json.loads(x) for x in
              (proj / ".calctl" / "events.jsonl").read_text().splitlines()]
    assert [e["type"] for e in events] == ["patch.applied", "patch.rolled_back"]
    assert "exited with 1" in events[1]["data"]["reason"]
    db = sqlite3.connect(proj / ".calctl" / "calctl.db")
    row = db.execute("SELECT status, rolled_back, verification_error, verify_output FROM "
                     "guardian_patch_applications").fetchone()
    db.close()
    assert row[:2] == ("rolled_back", 1) and "exited with 1" in row[2]
    assert "AssertionError: 5" in row[3]


def test_timeout_rolls_back(calctl: Any, proj: Path) -> None:
    before = tree(proj)
    result = apply(calctl, proj, patch_doc(FIX_ADD), "--verify", "sleep 30",
                   "--verify-timeout", "0.5")
    assert result.returncode == 1
    data = result.json()
    assert data["status"] == "rolled_back"
    assert data["verification"][0]["timed_out"] is True
    assert "timed out after 0.5 s" in data["reasons"][0]
    assert tree(proj) == before


def test_missing_verify_command_rolls_back(calctl: Any, proj: Path) -> None:
    before = tree(proj)
    result = apply(calctl, proj, patch_doc(FIX_ADD), "--verify", "no-such-command-xyz --x")
    assert result.returncode == 1
    assert "cannot run no-such-command-xyz" in result.json()["verification_output"]
    assert tree(proj) == before


def test_verify_from_config_and_no_verify(calctl: Any, proj: Path) -> None:
    (proj / "calctl.toml").write_text('[patch]\nverify = ["false"]\n')
    before = tree(proj)
    assert apply(calctl, proj, patch_doc(FIX_ADD)).json()["status"] == "rolled_back"
    assert tree(proj) == before
    result = apply(calctl, proj, patch_doc(FIX_ADD), "--no-verify")
    assert result.returncode == 0
    assert result.json()["status"] == "applied"
    assert "--no-verify" in result.json()["notes"][0]


def test_unparsable_verify_command_is_usage_error(calctl: Any, proj: Path) -> None:
    before = tree(proj)
    result = apply(calctl, proj, patch_doc(FIX_ADD), "--verify", "echo 'unterminated")
    assert result.returncode == 2
    assert "cannot be parsed" in result.json()["message"]
    assert tree(proj) == before


def test_verify_runs_without_a_shell(calctl: Any, proj: Path) -> None:
    result = apply(calctl, proj, patch_doc(FIX_ADD), "--verify", "echo $HOME; touch pwned")
    assert result.returncode == 0
    assert "$HOME; touch pwned" in result.json()["verification"][0]["output_tail"]
    assert not (proj / "pwned").exists()


def test_crlf_and_modes_are_kept(calctl: Any, proj: Path) -> None:
    doc = patch_doc({"op": "replace", "path": "windows.txt", "search": "second\n",
                     "replace": "SECOND\nextra\n"},
                    {"op": "replace", "path": "run.sh", "search": "old", "replace": "new"},
                    {"op": "line", "path": "secret.cfg", "line": 1, "old": "mode = 1",
                     "new": "mode = 2"})
    before = tree(proj)
    result = apply(calctl, proj, doc, "--no-verify")
    assert result.returncode == 0, result.stdout
    assert (proj / "windows.txt").read_bytes() == b"first\r\nSECOND\r\nextra\r\nthird\r\n"
    after = tree(proj)
    assert after["run.sh"] == (b"#!/bin/sh\necho new\n", 0o755)
    assert after["secret.cfg"] == (b"mode = 2\n", 0o600)
    rolled = calctl("patch", "rollback", result.json()["patch_id"], "--json", cwd=proj)
    assert rolled.returncode == 0, rolled.stdout
    assert tree(proj) == before


def test_create_delete_rename_round_trip(calctl: Any, proj: Path) -> None:
    before, before_dirs = tree(proj), dirs(proj)
    doc = patch_doc({"op": "create", "path": "pkg/sub/new.py", "content": "A = 1\n"},
                    {"op": "delete", "path": "secret.cfg"},
                    {"op": "rename", "path": "run.sh", "to": "bin/run.sh"},
                    {"op": "replace", "path": "bin/run.sh", "search": "old",
                     "replace": "renamed"})
    result = apply(calctl, proj, doc, "--verify", "true")
    assert result.returncode == 0, result.stdout
    after = tree(proj)
    assert after["pkg/sub/new.py"] == (b"A = 1\n", 0o644)
    assert "secret.cfg" not in after and "run.sh" not in after
    assert after["bin/run.sh"] == (b"#!/bin/sh\necho renamed\n", 0o755)
    rolled = calctl("patch", "rollback", result.json()["patch_id"], cwd=proj)
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert tree(proj) == before
    assert dirs(proj) == before_dirs


def test_git_diff_round_trip(calctl: Any, proj: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
    before = tree(proj)
    diff = (
        "diff --git a/app/calc.py b/app/calc.py\n--- a/app/calc.py\n+++ b/app/calc.py\n"
        "@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n"
        "diff --git a/run.sh b/tools/run.sh\nsimilarity index 100%\nrename from run.sh\n"
        "rename to tools/run.sh\n"
        "diff --git a/secret.cfg b/secret.cfg\ndeleted file mode 100600\n--- a/secret.cfg\n"
        "+++ /dev/null\n@@ -1 +0,0 @@\n-mode = 1\n"
        "diff --git a/NOTES b/NOTES\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES\n"
        "@@ -0,0 +1,2 @@\n+one\n+two\n\\ No newline at end of file\n"
    )
    result = calctl("patch", "apply", "-", "--json", "--verify", CHECK_ADD, cwd=proj,
                    input=diff)
    assert result.returncode == 0, result.stdout + result.stderr
    after = tree(proj)
    assert after["NOTES"][0] == b"one\ntwo"
    assert "tools/run.sh" in after and "run.sh" not in after and "secret.cfg" not in after
    calctl("patch", "rollback", result.json()["patch_id"], cwd=proj)
    assert tree(proj) == before


def test_seed_format_and_diagnosis_from_stdin(calctl: Any, proj: Path) -> None:
    seed = json.dumps({"file": "app/calc.py", "line": 2, "oldCode": "return a - b",
                       "newCode": "return a + b", "description": "seed fix"})
    result = apply(calctl, proj, seed, "--verify", CHECK_ADD)
    assert result.json()["status"] == "verified", result.stdout
    assert result.json()["description"] == "seed fix"
    calctl("patch", "rollback", result.json()["patch_id"], cwd=proj)
    diagnosis = json.dumps({"kind": "diagnosis", "version": 1, "provider": "rules",
                            "summary": "add subtracts", "report_id": "r-1",
                            "patch": json.loads(patch_doc(FIX_ADD))})
    result = apply(calctl, proj, diagnosis, "--verify", CHECK_ADD)
    assert result.json()["status"] == "verified"
    shown = calctl("patch", "show", result.json()["patch_id"], "--json", cwd=proj).json()
    assert shown["report_id"] == "r-1"


def test_llm_reply_with_search_replace_from_a_file(calctl: Any, proj: Path,
                                                    tmp_path: Path) -> None:
    reply = tmp_path / "reply.md"
    reply.write_text("Fix:\n\napp/calc.py\n```python\n<<<<<<< SEARCH\n    return a - b\n"
                     "=======\n    return a + b\n>>>>>>> REPLACE\n```\n")
    result = calctl("patch", "apply", str(reply), "--json", "--verify", CHECK_ADD, cwd=proj)
    assert result.returncode == 0, result.stdout
    assert result.json()["status"] == "verified"


def test_indentation_tolerant_match_carries_indent(calctl: Any, proj: Path) -> None:
    # The block comes unindented (as LLMs often quote it); the file has it inside a class.
    doc = patch_doc({"op": "replace", "path": "app/calc.py",
                     "search": "def mul(a, b):\n    return a * b\n",
                     "replace": "def mul(a, b):\n    if not a:\n        return 0\n"
                                "    return a * b\n"})
    write(proj / "app" / "calc.py", "class K:\n    def mul(a, b):\n        return a * b\n")
    result = apply(calctl, proj, doc, "--no-verify")
    assert result.returncode == 0, result.stdout
    assert (proj / "app" / "calc.py").read_text() == (
        "class K:\n    def mul(a, b):\n        if not a:\n            return 0\n"
        "        return a * b\n")
    assert "indentation adjusted" in result.json()["outcomes"][0]["detail"]


def test_applying_twice_reports_already_applied(calctl: Any, proj: Path) -> None:
    first = apply(calctl, proj, patch_doc(FIX_ADD), "--no-verify")
    assert first.json()["status"] == "applied"
    state = tree(proj)
    again = apply(calctl, proj, patch_doc(FIX_ADD), "--no-verify")
    assert again.returncode == 0
    assert again.json()["status"] == "already_applied"
    assert tree(proj) == state
    keep = {"op": "replace", "path": "app/calc.py", "search": "def mul(a, b):\n",
            "replace": "def mul(a, b):\n    # multiplies\n"}
    assert apply(calctl, proj, patch_doc(keep), "--no-verify").json()["status"] == "applied"
    assert apply(calctl, proj, patch_doc(keep), "--no-verify").json()["status"] == \
        "already_applied"


def test_dry_run_prints_the_diff_and_touches_nothing(calctl: Any, proj: Path) -> None:
    before = tree(proj)
    result = calctl("patch", "apply", "-", "--dry-run", cwd=proj, input=patch_doc(FIX_ADD))
    assert result.returncode == 0
    assert "-    return a - b\n+    return a + b" in result.stdout
    assert tree(proj) == before
    assert not (proj / ".calctl").exists()
    data = apply(calctl, proj, patch_doc(FIX_ADD), "--dry-run").json()
    assert data["status"] == "dry_run" and "+++ b/app/calc.py" in data["diff"]


def test_rollback_refuses_after_a_later_edit(calctl: Any, proj: Path) -> None:
    original = (proj / "app" / "calc.py").read_bytes()
    patch_id = apply(calctl, proj, patch_doc(FIX_ADD), "--no-verify").json()["patch_id"]
    with (proj / "app" / "calc.py").open("a") as fh:
        fh.write("# edited later by hand\n")
    edited = (proj / "app" / "calc.py").read_bytes()
    result = calctl("patch", "rollback", patch_id, "--json", cwd=proj)
    assert result.returncode == 1
    data = result.json()
    assert data["status"] == "refused"
    assert data["reasons"] == ["app/calc.py: changed since the patch was applied"]
    assert "+# edited later by hand" in data["diff"]
    assert (proj / "app" / "calc.py").read_bytes() == edited
    human = calctl("patch", "rollback", patch_id, cwd=proj)
    assert human.returncode == 1 and "edited later by hand" in human.stdout
    forced = calctl("patch", "rollback", patch_id[:12], "--force", "--json", cwd=proj)
    assert forced.returncode == 0, forced.stdout
    assert (proj / "app" / "calc.py").read_bytes() == original
    assert "saved in" in forced.json()["notes"][0]
    assert (proj / ".calctl" / "snapshots" / patch_id / "displaced" / "0").read_bytes() == edited
    again = calctl("patch", "rollback", patch_id, "--json", cwd=proj)
    assert again.returncode == 0 and "already rolled back" in again.json()["notes"][0]


def test_rollback_unknown_id(calctl: Any, proj: Path) -> None:
    result = calctl("patch", "rollback", "nope", cwd=proj)
    assert result.returncode == 2 and "no patch with id 'nope'" in result.stderr


def test_show_has_edits_diff_history_and_output(calctl: Any, proj: Path) -> None:
    patch_id = apply(calctl, proj, patch_doc(FIX_ADD), "--verify",
                     f"{PY} -c 'print(\"checked ok\")'").json()["patch_id"]
    shown = calctl("patch", "show", patch_id, "--json", cwd=proj)
    data = shown.json()
    assert data["kind"] == "patch-record" and data["status"] == "verified"
    assert [p["phase"] for p in data["phases"]] == ["prepared", "writing", "applied",
                                                   "verifying", "verified"]
    assert data["edits"][0]["path"] == "app/calc.py"
    assert "+    return a + b" in data["diff"]
    assert "checked ok" in data["verification"][0]["output_tail"]
    human = calctl("patch", "show", patch_id, cwd=proj)
    assert "verifying" in human.stdout and "checked ok" in human.stdout
    listed = calctl("patch", "list", cwd=proj)
    assert patch_id in listed.stdout and "verified" in listed.stdout
