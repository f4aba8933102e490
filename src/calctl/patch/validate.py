"""Validating a whole patch in memory, before a single byte is written.

Every edit is applied, in order, to an in-memory copy of the files it touches
(so a rename followed by an edit of the new name works). The result is a
:class:`Plan`: the before and after bytes and mode of every touched path, what
became of each edit, and — if anything is wrong — every reason the patch is
refused. Only a plan without reasons is ever written to disk.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from calctl.documents import Edit, EditOutcome, Patch
from calctl.documents.patch import mode_problem
from calctl.patch import matching
from calctl.patch.paths import Confinement, PathRefused

DEFAULT_MODE = 0o644
Outcome = Literal["apply", "already_applied"]


@dataclass(frozen=True)
class FileState:
    """A path's content and permission bits, or its absence."""

    exists: bool
    data: bytes = b""
    mode: int = DEFAULT_MODE


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the project root, posix, symlinks resolved
    before: FileState
    after: FileState


@dataclass(frozen=True)
class Limits:
    max_edit_bytes: int = 1_000_000
    max_patch_bytes: int = 5_000_000
    max_file_bytes: int = 20_000_000


@dataclass(frozen=True)
class Plan:
    changes: list[FileChange]
    outcomes: list[EditOutcome]
    reasons: list[str] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.reasons)

    @property
    def files(self) -> list[str]:
        return [c.path for c in self.changes]

    @property
    def already_applied(self) -> bool:
        return not self.reasons and not self.changes and bool(self.outcomes)


class _Refuse(Exception):
    pass


@dataclass
class _Entry:
    rel: str
    path: Path
    before: FileState
    exists: bool
    data: bytes
    mode: int
    text: str | None = None
    newline: str = "\n"

    def load_text(self) -> str:
        if self.text is None:
            if b"\x00" in self.data[:65536]:
                raise _Refuse(f"{self.rel}: binary file (holds NUL bytes); only text files "
                              "are patched")
            try:
                decoded = self.data.decode("utf-8")
            except UnicodeDecodeError:
                raise _Refuse(f"{self.rel}: not UTF-8 text; only text files are patched") \
                    from None
            crlf = self.data.count(b"\r\n")
            if crlf and crlf == self.data.count(b"\n"):
                self.newline = "\r\n"
                decoded = decoded.replace("\r\n", "\n")
            self.text = decoded
        return self.text

    def set_text(self, text: str) -> None:
        self.text = text
        self.data = (text.replace("\n", self.newline) if self.newline != "\n" else text).encode()


class _Tree:
    """The in-memory files a patch touches, loaded on first use."""

    def __init__(self, confinement: Confinement, limits: Limits) -> None:
        self.confinement = confinement
        self.limits = limits
        self.entries: dict[str, _Entry] = {}

    def entry(self, given: str, *, link_ok: bool = True) -> _Entry:
        try:
            rel, real = self.confinement.resolve(given, must_not_be_link=not link_ok)
        except PathRefused as exc:
            raise _Refuse(str(exc)) from None
        reason = self.confinement.protection(rel, given)
        if reason:
            raise _Refuse(reason + "; pass --allow-protected if the patch really must touch it")
        if rel in self.entries:
            return self.entries[rel]
        try:
            st = os.stat(real)
        except FileNotFoundError:
            self._check_parent(rel, real)
            entry = _Entry(rel, real, FileState(False), False, b"", DEFAULT_MODE)
        except OSError as exc:
            raise _Refuse(f"{rel}: cannot read: {exc.strerror}") from None
        else:
            if not stat.S_ISREG(st.st_mode):
                kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
                raise _Refuse(f"{rel}: is {kind} (devices, sockets and directories are never "
                              "patched)")
            if st.st_size > self.limits.max_file_bytes:
                raise _Refuse(f"{rel}: {st.st_size} bytes is over the size cap "
                              f"({self.limits.max_file_bytes} bytes, patch.max_file_bytes)")
            try:
                data = real.read_bytes()
            except OSError as exc:
                raise _Refuse(f"{rel}: cannot read: {exc.strerror}") from None
            mode = stat.S_IMODE(st.st_mode)
            entry = _Entry(rel, real, FileState(True, data, mode), True, data, mode)
        self.entries[rel] = entry
        return entry

    def _check_parent(self, rel: str, real: Path) -> None:
        parent = real.parent
        root = self.confinement.root
        while parent != root and not parent.exists():
            parent = parent.parent
        if parent.exists() and not parent.is_dir():
            raise _Refuse(f"{rel}: {parent.relative_to(root)} is a file, not a directory")

    def changes(self) -> list[FileChange]:
        out = []
        for entry in self.entries.values():
            after = FileState(entry.exists, entry.data if entry.exists else b"", entry.mode)
            before = entry.before
            if before.exists == after.exists and (
                not before.exists or (before.data == after.data and before.mode == after.mode)
            ):
                continue
            out.append(FileChange(entry.rel, before, after))
        return out


def _payload_size(edit: Edit) -> int:
    parts = (edit.search, edit.replace, edit.old, edit.new, edit.content)
    return sum(len(p.encode("utf-8", "replace")) for p in parts if p)


def plan_patch(patch: Patch, confinement: Confinement, limits: Limits) -> Plan:
    """Validate every edit of ``patch`` against the files on disk; nothing is written."""
    tree = _Tree(confinement, limits)
    outcomes: list[EditOutcome] = []
    reasons: list[str] = []
    if not patch.edits:
        reasons.append("the patch has no edits")
    total = 0
    for index, edit in enumerate(patch.edits):
        size = _payload_size(edit)
        total += size
        try:
            if size > limits.max_edit_bytes:
                raise _Refuse(f"{edit.path}: edit {index} carries {size} bytes, over the cap "
                              f"({limits.max_edit_bytes} bytes, patch.max_edit_bytes)")
            outcome, detail = _apply_edit(tree, edit)
        except _Refuse as exc:
            reasons.append(f"edit {index} ({edit.op} {edit.path}): {exc}")
            outcomes.append(EditOutcome(index, edit.op, edit.path, "refused", str(exc)))
            continue
        outcomes.append(EditOutcome(index, edit.op, edit.path, outcome, detail))
    if total > limits.max_patch_bytes:
        reasons.append(f"the patch carries {total} bytes, over the cap "
                       f"({limits.max_patch_bytes} bytes, patch.max_patch_bytes)")
    return Plan(tree.changes() if not reasons else [], outcomes, reasons)


# ---------------------------------------------------------------- one edit


def _apply_edit(tree: _Tree, edit: Edit) -> tuple[Outcome, str]:
    if edit.op == "replace":
        return _replace(tree, edit)
    if edit.op == "line":
        return _line(tree, edit)
    if edit.op == "create":
        return _create(tree, edit.path, edit.content or "", edit.mode)
    if edit.op == "delete":
        return _delete(tree, edit)
    if edit.op == "chmod":
        return _chmod(tree, edit)
    return _rename(tree, edit)


def _norm(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n")


def _create(tree: _Tree, path: str, content: str, mode: int | None) -> tuple[Outcome, str]:
    entry = tree.entry(path, link_ok=False)
    if "\x00" in content:
        raise _Refuse(f"{entry.rel}: content holds NUL bytes; binary files are not created")
    data = content.encode("utf-8")
    if entry.exists:
        if entry.data == data:
            return "already_applied", "file already exists with this content"
        raise _Refuse(f"{entry.rel}: already exists (create refuses to overwrite)")
    entry.exists = True
    entry.newline = "\n"
    entry.text = content
    entry.data = data
    entry.mode = _mode(entry.rel, mode) if mode is not None else DEFAULT_MODE
    return "apply", f"create ({len(data)} bytes)"


def _mode(rel: str, mode: int) -> int:
    # The document layer refused these already; a Patch built in code meets the same rule.
    problem = mode_problem(mode)
    if problem:
        raise _Refuse(f"{rel}: mode {problem}")
    return mode


def _chmod(tree: _Tree, edit: Edit) -> tuple[Outcome, str]:
    """A diff's ``old mode``/``new mode``: only 0o644 and 0o755 reach here from a diff."""
    entry = tree.entry(edit.path, link_ok=False)
    if not entry.exists:
        raise _Refuse(f"{entry.rel}: does not exist")
    mode = _mode(entry.rel, edit.mode if edit.mode is not None else -1)
    if entry.mode == mode:
        return "already_applied", f"mode is already 0o{mode:o}"
    before, entry.mode = entry.mode, mode
    return "apply", f"mode 0o{before:o} → 0o{mode:o}"


def _delete(tree: _Tree, edit: Edit) -> tuple[Outcome, str]:
    entry = tree.entry(edit.path, link_ok=False)
    if not entry.exists:
        return "already_applied", "file is already absent"
    entry.exists = False
    entry.text = None
    entry.data = b""
    return "apply", "delete"


def _rename(tree: _Tree, edit: Edit) -> tuple[Outcome, str]:
    source = tree.entry(edit.path, link_ok=False)
    target = tree.entry(edit.to or "", link_ok=False)
    if source.rel == target.rel:
        raise _Refuse(f"{source.rel}: rename onto itself")
    if not source.exists:
        if target.exists:
            return "already_applied", f"already renamed to {target.rel}"
        raise _Refuse(f"{source.rel}: does not exist")
    if target.exists:
        raise _Refuse(f"{target.rel}: already exists (rename refuses to overwrite)")
    target.exists, target.data, target.mode = True, source.data, source.mode
    target.text, target.newline = source.text, source.newline
    source.exists, source.data, source.text = False, b"", None
    return "apply", f"rename to {target.rel}"


def _replace(tree: _Tree, edit: Edit) -> tuple[Outcome, str]:
    search, repl = _norm(edit.search), _norm(edit.replace)
    entry = tree.entry(edit.path)
    if not entry.exists:
        if search == "" and edit.line is None:
            return _create(tree, edit.path, edit.replace or "", None)
        raise _Refuse(f"{entry.rel}: does not exist")
    text = entry.load_text()
    if search == "":
        if edit.line is None:
            raise _Refuse(f"{entry.rel}: empty search text on an existing file")
        return _insert(entry, text, edit.line, repl)
    positions = matching.find_all(text, search)
    if repl and search in repl:
        # The replacement keeps the search text: an occurrence already wrapped in the
        # replacement is the patch applied before, not a place to apply it again.
        k = repl.find(search)
        fresh = [p for p in positions if p < k or text[p - k:p - k + len(repl)] != repl]
        if positions and not fresh:
            return "already_applied", "replacement text already present"
        positions = fresh
    if len(positions) > 1 and edit.line is not None:
        at_line = [p for p in positions if matching.line_of(text, p) == edit.line]
        if len(at_line) == 1:
            positions = at_line
    if len(positions) == 1:
        p = positions[0]
        entry.set_text(text[:p] + repl + text[p + len(search):])
        first = matching.line_of(text, p)
        return "apply", f"replaced at line {first}"
    if len(positions) > 1:
        lines = ", ".join(str(matching.line_of(text, p)) for p in positions[:5])
        raise _Refuse(f"{entry.rel}: search text occurs {len(positions)} times (lines {lines}); "
                      "add surrounding lines so that it matches once")
    if _already_there(text, repl, edit.line):
        return "already_applied", "replacement text already present"
    file_lines = text.split("\n")
    block = matching.split_block(search)
    found = matching.indent_matches(file_lines, block)
    if len(found) > 1 and edit.line is not None:
        found = [m for m in found if m.start + 1 == edit.line] or found
    if len(found) == 1:
        match = found[0]
        new_lines = matching.reindent(matching.split_block(repl), match.common, match.indent)
        file_lines[match.start:match.start + len(block)] = new_lines
        entry.set_text("\n".join(file_lines))
        return "apply", f"replaced at line {match.start + 1} (indentation adjusted)"
    if len(found) > 1:
        lines = ", ".join(str(m.start + 1) for m in found[:5])
        raise _Refuse(f"{entry.rel}: search text occurs {len(found)} times up to indentation "
                      f"(lines {lines}); add surrounding lines so that it matches once")
    if repl.strip() and edit.line is None and matching.indent_matches(
            file_lines, matching.split_block(repl)):
        return "already_applied", "replacement text already present (indented)"
    raise _Refuse(f"{entry.rel}: search text not found; {matching.closest(file_lines, block)}")


def _already_there(text: str, repl: str, line: int | None) -> bool:
    """Is the replacement already in the file where the search text would have been?"""
    if not repl.strip():
        return False  # an empty or blank replacement proves nothing
    positions = matching.find_all(text, repl)
    if line is None:
        return bool(positions)
    return any(matching.line_of(text, p) == line for p in positions)


def _insert(entry: _Entry, text: str, line: int, repl: str) -> tuple[Outcome, str]:
    lines = text.split("\n")
    count = len(lines) - (1 if text.endswith("\n") or text == "" else 0)
    if line > count + 1:
        raise _Refuse(f"{entry.rel}: line {line} is past the end ({count} lines)")
    offset = sum(len(x) + 1 for x in lines[: line - 1])
    if repl and text[offset:offset + len(repl)] == repl:
        return "already_applied", "inserted text already present"
    if offset > len(text):  # a file without a final newline: insert after its last line
        text += "\n"
    entry.set_text(text[:offset] + repl + text[offset:])
    return "apply", f"inserted at line {line}"


def _line(tree: _Tree, edit: Edit) -> tuple[Outcome, str]:
    entry = tree.entry(edit.path)
    if not entry.exists:
        raise _Refuse(f"{entry.rel}: does not exist")
    text = entry.load_text()
    line = edit.line or 1
    old_lines = matching.split_block(_norm(edit.old))
    new_lines = matching.split_block(_norm(edit.new))
    file_lines = text.split("\n")
    count = len(file_lines) - (1 if text.endswith("\n") or text == "" else 0)
    idx = line - 1
    if not old_lines:
        if line > count + 1:
            raise _Refuse(f"{entry.rel}: line {line} is past the end ({count} lines)")
        if new_lines and file_lines[idx:idx + len(new_lines)] == new_lines:
            return "already_applied", f"line {line} already holds the new text"
        file_lines[idx:idx] = new_lines
        entry.set_text("\n".join(file_lines))
        return "apply", f"inserted at line {line}"
    if idx + len(old_lines) <= count:
        window = file_lines[idx:idx + len(old_lines)]
        if window == old_lines:
            file_lines[idx:idx + len(old_lines)] = new_lines
            entry.set_text("\n".join(file_lines))
            return "apply", f"replaced line {line}"
        found = matching.indent_matches(window, old_lines)
        if found:
            match = found[0]
            file_lines[idx:idx + len(old_lines)] = matching.reindent(new_lines, match.common,
                                                                     match.indent)
            entry.set_text("\n".join(file_lines))
            return "apply", f"replaced line {line} (indentation adjusted)"
    if new_lines and idx + len(new_lines) <= count:
        window = file_lines[idx:idx + len(new_lines)]
        if window == new_lines or matching.indent_matches(window, new_lines):
            return "already_applied", f"line {line} already holds the new text"
    actual = file_lines[idx] if idx < count else "<end of file>"
    raise _Refuse(f"{entry.rel}:{line}: expected {old_lines[0].strip()[:60]!r}, found "
                  f"{actual.strip()[:60]!r}; {matching.closest(file_lines, old_lines)}")
