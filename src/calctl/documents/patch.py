"""Documents of ``patch``: the patch itself, what applying it did, its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from calctl.documents.base import Document, Record
from calctl.errors import DocumentError

# The largest line number a patch may name: a PostgreSQL INTEGER, and far past any
# file calctl patches (max_file_bytes).
MAX_LINE = 2**31 - 1
# Permission bits a patch may set. git records only 100644 and 100755; anything more
# (setuid, setgid, sticky, group- or world-write) would let a patch plant a file that
# other users can change or that runs with its owner's rights. The owner must be able
# to read and write what a patch made, or it could not be rolled back.
MODE_ALLOWED = 0o755
MODE_REQUIRED = 0o600


def mode_problem(mode: int) -> str | None:
    """Why ``mode`` may not be set by a patch, or None."""
    if mode < 0 or mode & ~MODE_ALLOWED:
        extra = "" if mode < 0 else f" (0o{mode:o} sets bits outside rwxr-xr-x)"
        return (f"{mode} is not a permission mode a patch may set{extra}; at most 0o755, "
                "no setuid, setgid, sticky, group- or world-write")
    if mode & MODE_REQUIRED != MODE_REQUIRED:
        return (f"0o{mode:o} leaves the owner unable to read or write the file; a patch "
                "sets 0o644 (420) or 0o755 (493)")
    return None


@dataclass(frozen=True)
class Edit(Record):
    """One change of a patch; which fields apply depends on ``op``."""

    op: Literal["replace", "line", "create", "delete", "rename", "chmod"]
    path: str
    search: str | None = None
    replace: str | None = None
    line: int | None = None
    old: str | None = None
    new: str | None = None
    content: str | None = None
    to: str | None = None
    mode: int | None = None

    def validate_fields(self, where: str) -> None:
        prefix = f"field {where}." if where else "field "
        if self.line is not None and not 1 <= self.line <= MAX_LINE:
            raise DocumentError(f"{prefix}line: {_short(self.line)} is not a line number "
                                f"(1 to {MAX_LINE})")
        if self.mode is not None:
            problem = mode_problem(self.mode)
            if problem:
                raise DocumentError(f"{prefix}mode: {problem}",
                                    hint="Give the mode as a JSON integer, e.g. 493 for 0o755.")


def _short(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


@dataclass(frozen=True)
class Patch(Document):
    KIND: ClassVar[str] = "patch"

    id: str = ""
    description: str = ""
    edits: list[Edit] = field(default_factory=list)
    diff: str | None = None
    report_id: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class EditOutcome(Record):
    """What validation decided for one edit of a patch."""

    index: int
    op: str
    path: str
    outcome: Literal["apply", "already_applied", "refused"]
    detail: str = ""


@dataclass(frozen=True)
class VerifyRun(Record):
    """One verification command: its exit status and the tail of its output."""

    command: str
    returncode: int | None
    timed_out: bool = False
    duration: float = 0.0
    output_tail: str = ""


@dataclass(frozen=True)
class PatchResult(Document):
    KIND: ClassVar[str] = "patch-result"

    patch_id: str
    status: Literal["applied", "verified", "rolled_back", "failed", "refused", "dry_run",
                    "already_applied"]
    snapshot_id: str = ""
    files: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    verification_output: str = ""
    diff: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    description: str = ""
    outcomes: list[EditOutcome] = field(default_factory=list)
    verification: list[VerifyRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    git_commit: str = ""


@dataclass(frozen=True)
class PatchPhase(Record):
    """One step of a patch's journal (prepared, writing, applied, verifying, …)."""

    phase: str
    ts: str
    detail: str = ""


@dataclass(frozen=True)
class PatchRecord(Document):
    """Everything known about one patch application (``patch show``)."""

    KIND: ClassVar[str] = "patch-record"

    patch_id: str
    status: str
    description: str = ""
    files: list[str] = field(default_factory=list)
    snapshot_id: str = ""
    applied_at: str = ""
    in_flight: bool = False
    edits: list[Edit] = field(default_factory=list)
    diff: str = ""
    phases: list[PatchPhase] = field(default_factory=list)
    verification: list[VerifyRun] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    git_commit: str = ""
    report_id: str = ""
    source: str = ""


@dataclass(frozen=True)
class PatchSummary(Record):
    patch_id: str
    status: str
    description: str = ""
    files: list[str] = field(default_factory=list)
    applied_at: str = ""
    rolled_back: bool = False
    in_flight: bool = False


@dataclass(frozen=True)
class PatchList(Document):
    KIND: ClassVar[str] = "patch-list"

    patches: list[PatchSummary] = field(default_factory=list)


@dataclass(frozen=True)
class RecoveredPatch(Record):
    patch_id: str
    phase: str
    action: Literal["rolled_back", "finished"]
    files: list[str] = field(default_factory=list)
    detail: str = ""


@dataclass(frozen=True)
class SkippedJournal(Record):
    """A journal recovery did not act on: not sealed with this user's key."""

    path: str
    reason: str


@dataclass(frozen=True)
class PatchRecovery(Document):
    """What ``patch recover`` did with the journals a crash left behind."""

    KIND: ClassVar[str] = "patch-recovery"

    recovered: list[RecoveredPatch] = field(default_factory=list)
    skipped: list[SkippedJournal] = field(default_factory=list)
