"""Every input format becomes explicit edits (patch/parse.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from calctl.documents import Edit
from calctl.errors import DocumentError, UsageError
from calctl.patch.parse import diff_to_edits, parse_patch_text


def test_patch_document_with_every_op() -> None:
    doc = {"kind": "patch", "version": 1, "id": "p1", "description": "d", "edits": [
        {"op": "replace", "path": "a.py", "search": "x", "replace": "y"},
        {"op": "line", "path": "a.py", "line": 3, "old": "o", "new": "n"},
        {"op": "create", "path": "b.py", "content": "c\n"},
        {"op": "delete", "path": "c.py"},
        {"op": "rename", "path": "d.py", "to": "e.py"},
    ]}
    patch = parse_patch_text(json.dumps(doc), source="p.json")
    assert [e.op for e in patch.edits] == ["replace", "line", "create", "delete", "rename"]
    assert patch.id == "p1"
    assert patch.edits[4].to == "e.py"


def test_patch_document_missing_field_is_named() -> None:
    doc = {"kind": "patch", "version": 1, "edits": [{"op": "rename", "path": "a"}]}
    with pytest.raises(DocumentError, match=r"edits\[0\]\.to: missing"):
        parse_patch_text(json.dumps(doc), source="p.json")


def test_bad_op_is_named() -> None:
    doc = {"kind": "patch", "version": 1, "edits": [{"op": "symlink", "path": "a"}]}
    with pytest.raises(DocumentError, match=r"edits\[0\]\.op"):
        parse_patch_text(json.dumps(doc))


def test_seed_object_and_list() -> None:
    one = {"file": "app.py", "line": 4, "oldCode": "a", "newCode": "b", "description": "fix"}
    patch = parse_patch_text(json.dumps(one))
    assert patch.edits == [Edit(op="line", path="app.py", line=4, old="a", new="b")]
    assert patch.description == "fix"
    many = parse_patch_text(json.dumps([one, {**one, "file": "other.py", "description": "2"}]))
    assert [e.path for e in many.edits] == ["app.py", "other.py"]
    assert many.description == "fix; 2"


def test_seed_bad_field_is_named() -> None:
    with pytest.raises(DocumentError, match="field oldCode"):
        parse_patch_text(json.dumps({"file": "a", "line": 1, "oldCode": 3, "newCode": "x"}))


def test_diagnosis_document_yields_its_patch() -> None:
    doc = {"kind": "diagnosis", "version": 1, "provider": "rules", "summary": "fix it",
           "report_id": "r1", "patch": {"kind": "patch", "version": 1, "edits": [
               {"op": "replace", "path": "a.sql", "search": "x", "replace": "y"}]}}
    patch = parse_patch_text(json.dumps(doc))
    assert patch.report_id == "r1"
    assert patch.description == "fix it"
    assert patch.edits[0].path == "a.sql"


def test_diagnosis_without_patch_is_a_usage_error() -> None:
    doc = {"kind": "diagnosis", "version": 1, "provider": "rules", "summary": "no idea"}
    with pytest.raises(UsageError, match="carries no patch"):
        parse_patch_text(json.dumps(doc))


def test_other_kind_is_refused() -> None:
    with pytest.raises(DocumentError, match="not a patch"):
        parse_patch_text(json.dumps({"kind": "finding", "version": 1}))


LLM_REPLY = """The bug is in `add`: it subtracts.

app/calc.py
```python
<<<<<<< SEARCH
def add(a, b):
    return a - b
=======
def add(a, b):
    return a + b
>>>>>>> REPLACE
```

And a new helper:

**app/util.py**
```python
<<<<<<< SEARCH
=======
X = 1
>>>>>>> REPLACE
```
"""


def test_search_replace_blocks_from_an_llm_reply() -> None:
    patch = parse_patch_text(LLM_REPLY, source="reply.md")
    assert [(e.op, e.path) for e in patch.edits] == [("replace", "app/calc.py"),
                                                    ("replace", "app/util.py")]
    assert patch.edits[0].search == "def add(a, b):\n    return a - b\n"
    assert patch.edits[0].replace == "def add(a, b):\n    return a + b\n"
    assert patch.edits[1].search == ""


def test_search_block_without_path_is_refused_with_line() -> None:
    with pytest.raises(DocumentError, match=r"reply:1: SEARCH block without a file path"):
        parse_patch_text("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", source="reply")


def test_unterminated_block() -> None:
    with pytest.raises(DocumentError, match="no >>>>>>> REPLACE"):
        parse_patch_text("a.py\n<<<<<<< SEARCH\na\n=======\nb\n", source="r")


def _git_diff(tmp_path: Path) -> str:
    repo = tmp_path / "r"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *args],
                              cwd=repo, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    (repo / "keep.txt").write_text("".join(f"l{i}\n" for i in range(1, 13)))
    (repo / "gone.txt").write_text("bye\n")
    (repo / "old.txt").write_text("alpha\nbeta\ngamma\ndelta\n")
    (repo / "tail.txt").write_text("no newline")
    git("add", ".")
    git("commit", "-qm", "i")
    (repo / "keep.txt").write_text("L1\n" + "".join(f"l{i}\n" for i in range(2, 12)) + "L12\n")
    (repo / "gone.txt").unlink()
    git("mv", "old.txt", "new.txt")
    (repo / "new.txt").write_text("alpha\nbeta\ngamma\ndelta\nepsilon\n")
    (repo / "tail.txt").write_text("no newline, still")
    (repo / "added.sh").write_text("#!/bin/sh\n")
    (repo / "added.sh").chmod(0o755)
    git("add", "-A")
    return git("diff", "--cached", "-M")


def test_git_diff_with_new_deleted_renamed_files(tmp_path: Path) -> None:
    edits = diff_to_edits(_git_diff(tmp_path))
    ops = [(e.op, e.path) for e in edits]
    assert ("create", "added.sh") in ops
    assert ("delete", "gone.txt") in ops
    assert ("rename", "old.txt") in ops
    created = next(e for e in edits if e.op == "create")
    assert created.content == "#!/bin/sh\n" and created.mode == 0o755
    keep = [e for e in edits if e.path == "keep.txt"]
    assert len(keep) == 2 and keep[0].line == 1 and keep[1].line == 9
    assert keep[1].search == "l9\nl10\nl11\nl12\n"
    tail = next(e for e in edits if e.path == "tail.txt")
    assert tail.search == "no newline" and tail.replace == "no newline, still"


def test_fenced_diff_in_llm_text(tmp_path: Path) -> None:
    diff = _git_diff(tmp_path)
    reply = f"Here is the fix:\n\n```diff\n{diff}```\n\nHope it helps."
    patch = parse_patch_text(reply, source="reply")
    assert {e.op for e in patch.edits} == {"create", "delete", "rename", "replace"}


def test_patch_document_with_diff_field(tmp_path: Path) -> None:
    doc = {"kind": "patch", "version": 1, "diff": _git_diff(tmp_path)}
    patch = parse_patch_text(json.dumps(doc))
    assert patch.diff is None and len(patch.edits) >= 5


def test_text_without_patch() -> None:
    with pytest.raises(DocumentError, match="no patch found"):
        parse_patch_text("I think the bug is somewhere in the parser.", source="reply")
