"""The in-memory plan: matching rules, already-applied detection, edit ordering."""

from __future__ import annotations

import subprocess
from pathlib import Path

from patch_helpers import write

from calctl.documents import Edit, Patch
from calctl.patch.parse import diff_to_edits
from calctl.patch.paths import Confinement
from calctl.patch.validate import Limits, Plan, plan_patch


def plan(root: Path, *edits: Edit) -> Plan:
    return plan_patch(Patch(edits=list(edits)), Confinement(root, root / ".calctl"), Limits())


def after(result: Plan, path: str) -> bytes:
    return next(c.after.data for c in result.changes if c.path == path)


def test_replacement_containing_the_search_is_not_applied_twice(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "import os\nx = 1\n")
    edit = Edit(op="replace", path="a.py", search="import os\n",
                replace="import os\nimport sys\n")
    first = plan(tmp_path, edit)
    assert after(first, "a.py") == b"import os\nimport sys\nx = 1\n"
    write(tmp_path / "a.py", after(first, "a.py"))
    second = plan(tmp_path, edit)
    assert second.already_applied and second.outcomes[0].outcome == "already_applied"


def test_blank_replacement_is_never_taken_as_already_applied(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "a\n\nb\n")
    result = plan(tmp_path, Edit(op="replace", path="a.py", search="gone\n", replace="\n"))
    assert result.refused and "search text not found" in result.reasons[0]


def test_line_edit_tolerates_uniform_indentation(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "def f():\n    if x:\n        return 1\n")
    result = plan(tmp_path, Edit(op="line", path="a.py", line=3, old="return 1",
                                 new="return 2"))
    assert after(result, "a.py") == b"def f():\n    if x:\n        return 2\n"
    write(tmp_path / "a.py", after(result, "a.py"))
    again = plan(tmp_path, Edit(op="line", path="a.py", line=3, old="return 1",
                                new="return 2"))
    assert again.already_applied


def test_edits_apply_in_order_across_a_rename(tmp_path: Path) -> None:
    write(tmp_path / "old.py", "v = 1\n")
    result = plan(tmp_path, Edit(op="rename", path="old.py", to="new/place.py"),
                  Edit(op="replace", path="new/place.py", search="v = 1", replace="v = 2"))
    assert {c.path: c.after.exists for c in result.changes} == {"old.py": False,
                                                                "new/place.py": True}
    assert after(result, "new/place.py") == b"v = 2\n"


def test_zero_context_diff_inserts_and_deletes_at_the_hunk_line(tmp_path: Path) -> None:
    repo = tmp_path / "r"
    repo.mkdir()
    write(repo / "f.txt", "a\nb\nc\nd\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    write(repo / "f.txt", "a\nNEW\nb\nd\n")
    diff = subprocess.run(["git", "diff", "-U0"], cwd=repo, capture_output=True, text=True,
                          check=True).stdout
    write(repo / "f.txt", "a\nb\nc\nd\n")
    result = plan(repo, *diff_to_edits(diff))
    assert not result.refused, result.reasons
    assert after(result, "f.txt") == b"a\nNEW\nb\nd\n"


def test_hunk_anchor_picks_among_repeated_blocks(tmp_path: Path) -> None:
    write(tmp_path / "f.txt", "x\ny\nx\ny\n")
    result = plan(tmp_path, Edit(op="replace", path="f.txt", search="x\ny\n",
                                 replace="x\nY\n", line=3))
    assert after(result, "f.txt") == b"x\ny\nx\nY\n"


def test_file_without_final_newline_keeps_it_that_way(tmp_path: Path) -> None:
    write(tmp_path / "f.txt", "a\r\nb")
    result = plan(tmp_path, Edit(op="replace", path="f.txt", search="a\n", replace="A\n"))
    assert after(result, "f.txt") == b"A\r\nb"


def test_symlink_inside_the_root_edits_its_target(tmp_path: Path) -> None:
    write(tmp_path / "real.txt", "v = 1\n")
    (tmp_path / "alias.txt").symlink_to("real.txt")
    result = plan(tmp_path, Edit(op="replace", path="alias.txt", search="1", replace="2"))
    assert [c.path for c in result.changes] == ["real.txt"]
    deleting = plan(tmp_path, Edit(op="delete", path="alias.txt"))
    assert deleting.refused and "symbolic link" in deleting.reasons[0]
