"""Rendering what a patch changes as a git-style unified diff (for --dry-run, show, refusals)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from calctl.patch.validate import FileChange, FileState

NO_NEWLINE = "\\ No newline at end of file\n"


def _lines(state: FileState) -> list[str] | None:
    if not state.exists:
        return []
    if b"\x00" in state.data[:65536]:
        return None
    try:
        return state.data.decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return None


def unified(path: str, before: FileState, after: FileState, *, context: int = 3,
            old_label: str | None = None, new_label: str | None = None) -> str:
    """One file's diff, with git's headers for new, deleted and mode-changed files."""
    head = [f"diff --git a/{path} b/{path}\n"]
    if not before.exists:
        head.append(f"new file mode 100{after.mode:o}\n")
    elif not after.exists:
        head.append(f"deleted file mode 100{before.mode:o}\n")
    elif before.mode != after.mode:
        head.append(f"old mode 100{before.mode:o}\nnew mode 100{after.mode:o}\n")
    old, new = _lines(before), _lines(after)
    if old is None or new is None:
        return "".join(head) + f"Binary files a/{path} and b/{path} differ\n"
    if old == new:
        return "".join(head)
    fromfile = old_label or (f"a/{path}" if before.exists else "/dev/null")
    tofile = new_label or (f"b/{path}" if after.exists else "/dev/null")
    body: list[str] = []
    for line in difflib.unified_diff(old, new, fromfile, tofile, n=context):
        if line.endswith("\n"):
            body.append(line)
        else:
            body.append(line + "\n" + NO_NEWLINE)
    return "".join(head) + "".join(body)


def render(changes: Iterable[FileChange]) -> str:
    """The whole patch as one diff, files in the order the patch first touched them."""
    return "".join(unified(c.path, c.before, c.after) for c in changes)
