"""The document of ``migrate lint --fix``: what was fixed, what was not and why, the patch
and what applying it did, and the problems left."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from calctl.documents.base import Document, Record
from calctl.documents.migrate import LintReport
from calctl.documents.patch import Patch, PatchResult


@dataclass(frozen=True)
class FixItem(Record):
    """One problem's fix: made (``reason`` empty) or not, and why not."""

    code: str
    path: str   # in the migration directory, as the problem names it
    line: int
    column: int
    title: str
    reason: str = ""


@dataclass(frozen=True)
class LintFix(Document):
    KIND: ClassVar[str] = "migration-lint-fix"

    directory: str
    applied: bool = False           # False: --diff, or nothing to fix
    fixed: list[FixItem] = field(default_factory=list)
    skipped: list[FixItem] = field(default_factory=list)
    patch: Patch | None = None
    result: PatchResult | None = None
    report: LintReport | None = None   # the problems left (after the patch, when applied)
