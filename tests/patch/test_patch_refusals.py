"""Every refusal: exit 1, status refused, every reason listed, no byte on disk changed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from patch_helpers import patch_doc, tree, write


def _refused(calctl: Any, proj: Path, doc: str, *args: str,
             env: dict[str, str] | None = None) -> dict[str, Any]:
    before = tree(proj)
    result = calctl("patch", "apply", "-", "--json", "--no-verify", *args, cwd=proj,
                    input=doc, env=env)
    assert result.returncode == 1, result.stderr + result.stdout
    data = result.json()
    assert data["kind"] == "patch-result"
    assert data["status"] == "refused"
    assert tree(proj) == before, "a refused patch changed a file"
    return data


def _edit(path: str, **extra: Any) -> dict[str, Any]:
    return {"op": "replace", "path": path, "search": "x", "replace": "y", **extra}


def _outside_link(proj: Path) -> str:
    outside = proj.parent / "outside.txt"
    outside.write_text("x\n")
    (proj / "link.txt").symlink_to(outside)
    return "link.txt"


def _dir_link(proj: Path) -> str:
    (proj.parent / "elsewhere").mkdir()
    write(proj.parent / "elsewhere" / "f.py", "x\n")
    (proj / "lib").symlink_to(proj.parent / "elsewhere")
    return "lib/f.py"


def _git_config(proj: Path) -> str:
    write(proj / ".git" / "config", "[core]\nx = 1\n")
    return ".git/config"


def _fifo(proj: Path) -> str:
    os.mkfifo(proj / "pipe")
    return "pipe"


def _binary(proj: Path) -> str:
    write(proj / "image.png", b"\x89PNG\r\n\x1a\n\x00\x00x\x00")
    return "image.png"


def _latin1(proj: Path) -> str:
    write(proj / "legacy.txt", "caf\xe9 x\n".encode("latin-1"))
    return "legacy.txt"


def _state(proj: Path) -> str:
    write(proj / ".calctl" / "events.jsonl", "x\n")
    return ".calctl/events.jsonl"


CASES: dict[str, tuple[Callable[[Path], str], str]] = {
    "traversal": (lambda p: "../outside.txt", "leaves the project root"),
    "traversal-deep": (lambda p: "app/../../x.py", "leaves the project root"),
    "absolute": (lambda p: "/etc/passwd", "absolute paths are refused"),
    "symlink-escape": (_outside_link, "outside the project root"),
    "dir-symlink-escape": (_dir_link, "outside the project root"),
    "git-config": (_git_config, "under .git/"),
    "state-dir": (_state, "state directory"),
    "protected-test": (lambda p: "tests/test_calc.py", "protected"),
    "protected-conftest": (lambda p: "app/conftest.py", "protected"),
    "protected-ci": (lambda p: ".github/workflows/ci.yml", "protected"),
    "protected-config": (lambda p: "calctl.toml", "protected"),
    "fifo": (_fifo, "not a regular file"),
    "binary": (_binary, "binary file"),
    "not-utf8": (_latin1, "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_path_refusals(case: str, calctl: Any, proj: Path) -> None:
    make, expected = CASES[case]
    path = make(proj)
    data = _refused(calctl, proj, patch_doc(_edit(path)))
    assert any(expected in reason for reason in data["reasons"]), data["reasons"]


def test_protected_allowed_with_flag(calctl: Any, proj: Path) -> None:
    doc = patch_doc({"op": "replace", "path": "tests/test_calc.py", "search": "== 4",
                     "replace": "== 0"})
    result = calctl("patch", "apply", "-", "--json", "--no-verify", "--allow-protected",
                    cwd=proj, input=doc)
    assert result.returncode == 0, result.stderr
    assert "== 0" in (proj / "tests" / "test_calc.py").read_text()


def test_extra_protected_glob_from_config(calctl: Any, proj: Path) -> None:
    (proj / "calctl.toml").write_text('[patch]\nprotect = ["app/**"]\n')
    data = _refused(calctl, proj, patch_doc({"op": "replace", "path": "app/calc.py",
                                             "search": "a - b", "replace": "a + b"}))
    assert "matches 'app/**'" in data["reasons"][0]


def test_ambiguous_search_lists_the_matches(calctl: Any, proj: Path) -> None:
    doc = patch_doc({"op": "replace", "path": "app/calc.py", "search": "(a, b):\n",
                     "replace": "(a, b, c):\n"})
    data = _refused(calctl, proj, doc)
    assert "occurs 2 times (lines 1, 5)" in data["reasons"][0]


def test_missing_search_shows_closest_lines(calctl: Any, proj: Path) -> None:
    doc = patch_doc({"op": "replace", "path": "app/calc.py",
                     "search": "def add(x, y):\n    return x - y\n",
                     "replace": "def add(x, y):\n    return x + y\n"})
    data = _refused(calctl, proj, doc)
    reason = data["reasons"][0]
    assert "search text not found" in reason
    assert "closest: lines 1-2" in reason and "similar" in reason


def test_missing_search_without_similar_lines(calctl: Any, proj: Path) -> None:
    doc = patch_doc(_edit("app/calc.py", search="completely unrelated text\n"))
    data = _refused(calctl, proj, doc)
    assert "no similar lines" in data["reasons"][0]


def test_line_edit_with_wrong_old_text(calctl: Any, proj: Path) -> None:
    doc = patch_doc({"op": "line", "path": "app/calc.py", "line": 1, "old": "return a - b",
                     "new": "return a + b"})
    data = _refused(calctl, proj, doc)
    assert "app/calc.py:1: expected 'return a - b', found 'def add(a, b):'" in data["reasons"][0]
    assert "closest: line 2" in data["reasons"][0]


def test_oversize_edit_and_file(calctl: Any, proj: Path) -> None:
    big = "y" * 2000
    data = _refused(calctl, proj, patch_doc(_edit("app/calc.py", replace=big)),
                    env={"CALCTL_PATCH_MAX_EDIT_BYTES": "1000"})
    assert "over the cap" in data["reasons"][0] and "max_edit_bytes" in data["reasons"][0]
    data = _refused(calctl, proj, patch_doc(_edit("app/calc.py", search="a - b")),
                    env={"CALCTL_PATCH_MAX_FILE_BYTES": "10"})
    assert "max_file_bytes" in data["reasons"][0]
    data = _refused(calctl, proj, patch_doc(_edit("app/calc.py", search="a - b",
                                                  replace="a + b"),
                                            _edit("run.sh", search="old", replace=big)),
                    env={"CALCTL_PATCH_MAX_PATCH_BYTES": "1500"})
    assert any("max_patch_bytes" in r for r in data["reasons"])


def test_every_reason_is_listed_and_valid_edits_are_not_written(calctl: Any,
                                                                 proj: Path) -> None:
    doc = patch_doc({"op": "replace", "path": "app/calc.py", "search": "a - b",
                     "replace": "a + b"},
                    _edit("../escape.py"), _edit("tests/test_calc.py"),
                    {"op": "create", "path": "run.sh", "content": "x"},
                    {"op": "rename", "path": "missing.txt", "to": "new.txt"})
    data = _refused(calctl, proj, doc)
    assert len(data["reasons"]) == 4
    assert [o["outcome"] for o in data["outcomes"]] == ["apply", "refused", "refused",
                                                         "refused", "refused"]


def test_refusal_is_recorded(calctl: Any, proj: Path) -> None:
    _refused(calctl, proj, patch_doc(_edit("../x")))
    listed = calctl("patch", "list", "--json", cwd=proj).json()
    assert listed["patches"][0]["status"] == "refused"
    events = [json.loads(line)["type"] for line in
              (proj / ".calctl" / "events.jsonl").read_text().splitlines()]
    assert events == ["patch.refused"]


def test_human_output_lists_reasons(calctl: Any, proj: Path) -> None:
    result = calctl("patch", "apply", "-", "--no-verify", cwd=proj,
                    input=patch_doc(_edit("../x")))
    assert result.returncode == 1
    assert "refused" in result.stdout and "leaves the project root" in result.stdout


def test_bad_document_is_exit_2(calctl: Any, proj: Path) -> None:
    result = calctl("patch", "apply", "-", "--json", cwd=proj, input='{"kind": "patch", '
                    '"version": 1, "edits": [{"op": "line", "path": "a"}]}')
    assert result.returncode == 2
    assert result.json()["kind"] == "error"
    assert "edits[0].line: missing" in result.json()["message"]
    assert "Traceback" not in result.stderr
