"""The fixes of ``migrate lint --fix``: the statement rules' edits of the problems a lint
reported, as new file texts and as one ``patch`` document.

A statement rule attaches its repair to a finding as :class:`~calctl.sql.rules.statement.Edit`
values, character offsets in the file's text (:mod:`calctl.sql.rules.statement`). Only
the findings that are still problems of the report count — what ignore comments,
selection or a baseline removed is not fixed — so the fixes are matched to the report's
problems by rule, file, position and message. The edits of one file are applied
together; two fixes whose edits overlap cannot both be right, so the later one waits for
the next run (identical edits, e.g. the ``no-transaction`` line two index fixes both
add, are made once).

Nothing here writes a file: :func:`calctl.migrate.lintfix.fix_patch` makes the patch
that the patch engine applies (snapshot, confinement to the project, verification,
rollback).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.documents import Problem
from calctl.sql.rules.statement import Edit, apply_edits

if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql.discovery import MigrationFile


OUTSIDE_UP = ("a fix outside the section of the file that calctl reads (a dbmate or goose "
              "file's up section); make it by hand, with the tool's own markers")


@dataclass(frozen=True)
class Fix:
    """One problem's repair."""

    code: str
    path: str        # in the migration directory, as the problem names it
    line: int
    column: int
    title: str       # what it does ("Add CONCURRENTLY.")
    edits: tuple[Edit, ...]


@dataclass
class FileFix:
    """The fixes of one file that can be made together, and the file before and after."""

    file: MigrationFile
    fixes: list[Fix] = field(default_factory=list)
    waiting: list[Fix] = field(default_factory=list)   # overlap an earlier fix: next run
    blocked: str = ""   # why none of the file's fixes can be made (then ``fixes`` is empty)
    before: str = ""
    after: str = ""


def lint_fixes(directory: Path, settings: MigrateSettings, problems: Sequence[Problem], *,
               files: list[MigrationFile] | None = None, keys: list[bytes] | None = None,
               cache_dir: Path | None = None,
               context: dict[str, Any] | None = None) -> list[Fix]:
    """The fixes the statement rules offer for ``problems`` (a lint report's), in file
    order. ``context``: what the rules know of the target (as :func:`lint_directory`)."""
    from calctl.sql.rules import RuleContext, rules_for
    from calctl.sql.rules.statement import StatementRule, statement_findings
    from calctl.sql.runtime import analyse_directory

    wanted = {(p.code, p.path, p.line, p.column, p.message) for p in problems}
    if not wanted:
        return []
    result = analyse_directory(directory, settings, cache_dir=cache_dir, files=files,
                               keys=keys)
    ctx = RuleContext(result.files, result.analyses, result.resolution, result.ordering,
                      result.default_schema,
                      **{"defines": settings.defines, **(context or {})})
    rules = [r for r in rules_for("lint") if isinstance(r, StatementRule)]
    found = []
    for _, scope, rule, finding in statement_findings(ctx, rules):
        if not finding.fix or not scope.source.exact:
            continue  # a templated file's offsets are the rendered text's
        if (rule.code, scope.path, finding.line, finding.column, finding.message) in wanted:
            found.append(Fix(rule.code, scope.path, finding.line, finding.column,
                             finding.fix_title or f"Fix {rule.code}.", finding.fix))
    return found


def plan_files(files: Iterable[MigrationFile], fixes: Iterable[Fix]) -> list[FileFix]:
    """Group ``fixes`` by file and work out each file's new text; a file whose new text
    cannot be placed in the file as it is on disk is left out (none of its fixes made)."""
    by_path: dict[str, list[Fix]] = {}
    for fix in fixes:
        by_path.setdefault(fix.path, []).append(fix)
    planned = []
    for file in files:
        mine = by_path.get(file.path)
        if not mine:
            continue
        plan = FileFix(file)
        taken: list[Edit] = []
        crlf = "\r\n" in file.raw and "\n" not in file.raw.replace("\r\n", "")
        for fix in mine:
            edits = [_line_ending(e, crlf) for e in fix.edits]
            fresh = [e for e in edits if e not in taken]
            if any(_overlap(e, t) for e in fresh for t in taken):
                plan.waiting.append(fix)
                continue
            taken.extend(fresh)
            plan.fixes.append(fix)
        after = _on_disk(file, apply_edits(file.text, taken))
        if after is None:
            plan.blocked = OUTSIDE_UP
        else:
            plan.before, plan.after = file.raw, after
        planned.append(plan)
    return planned


def _line_ending(edit: Edit, crlf: bool) -> Edit:
    if not crlf or "\n" not in edit.text:
        return edit
    return Edit(edit.start, edit.end, edit.text.replace("\r\n", "\n").replace("\n", "\r\n"))


def _overlap(a: Edit, b: Edit) -> bool:
    """Do two edits touch the same characters (two insertions at one point do too: their
    order would be a guess)?"""
    if a.start == a.end and b.start == b.end:
        return a.start == b.start
    return a.start < b.end and b.start < a.end


def _on_disk(file: MigrationFile, new_text: str) -> str | None:
    """The file's new content, from ``new_text`` (the analysed text with the edits made).

    The analysed text is the file's own, except for goose and dbmate files, whose other
    sections are blanked out line for line: there the changed lines are carried over to
    the file when they lie inside the section calctl reads — each changed line the file's
    own, and after a line of it (else None: an edit before the ``-- migrate:up`` or
    ``-- +goose Up`` line, such as a ``no-transaction`` line, would not be read, and
    the tool has its own marker for that)."""
    if file.text == file.raw:
        return new_text
    old_lines = file.text.splitlines(keepends=True)
    raw_lines = file.raw.splitlines(keepends=True)
    if len(old_lines) != len(raw_lines):
        return None
    new_lines = new_text.splitlines(keepends=True)
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.extend(raw_lines[i1:i2])
            continue
        if i1 == 0 or old_lines[i1 - 1:i2] != raw_lines[i1 - 1:i2] \
                or not old_lines[i1 - 1].strip():
            return None
        out.extend(new_lines[j1:j2])
    return "".join(out)


def project_path(file: MigrationFile, root: Path) -> str | None:
    """The file's path relative to the project root (None when it lies outside)."""
    try:
        return Path(os.path.abspath(file.location)).relative_to(root).as_posix()
    except ValueError:
        try:
            return Path(file.location).resolve().relative_to(root).as_posix()
        except ValueError:
            return None
