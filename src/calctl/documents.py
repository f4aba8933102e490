"""The JSON documents that flow between commands (DESIGN §3).

Each is a frozen dataclass with a ``KIND``; ``to_dict()`` adds ``kind`` and
``version``; ``from_dict()`` validates every field against the annotations and
raises :class:`DocumentError` naming the first bad field (``edits[2].path``).
:func:`load_document` reads one from text (a file or stdin) and dispatches on kind.
"""

from __future__ import annotations

import dataclasses
import json
import types
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from calctl.errors import DocumentError

VERSION = 1
D = TypeVar("D", bound="Document")


@dataclass(frozen=True)
class Record:
    """A nested part of a document: validated the same way, without kind/version."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _dump(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[Any], data: Any, where: str = "") -> Any:
        return _build(cls, data, where)


@dataclass(frozen=True)
class Document(Record):
    """A top-level document with ``kind`` and ``version``."""

    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, "version": VERSION, **super().to_dict()}

    @classmethod
    def from_dict(cls: type[Any], data: Any, where: str = "") -> Any:
        if not isinstance(data, dict):
            raise DocumentError(f"a {cls.KIND} document must be a JSON object")
        kind = data.get("kind")
        if kind != cls.KIND:
            raise DocumentError(f"field kind: expected {cls.KIND!r}, got {kind!r}")
        version = data.get("version", VERSION)
        if version != VERSION:
            raise DocumentError(f"field version: unsupported version {version!r} (expected 1)")
        body = {k: v for k, v in data.items() if k not in ("kind", "version")}
        return _build(cls, body, where)


# ---------------------------------------------------------------- documents


@dataclass(frozen=True)
class Problem(Record):
    """One finding of ``migrate order``/``migrate lint`` (a rule violation)."""

    code: str
    name: str
    severity: Literal["error", "warning", "info"]
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    hint: str = ""


@dataclass(frozen=True)
class Dependency(Record):
    path: str
    object: str
    line: int | None = None


@dataclass(frozen=True)
class PlanFile(Record):
    path: str
    position: int
    moved_from: int | None = None
    depends_on: list[Dependency] = field(default_factory=list)
    approximate: bool = False
    transaction: bool = True
    reason: str = ""


@dataclass(frozen=True)
class MigrationPlan(Document):
    KIND: ClassVar[str] = "migration-plan"

    directory: str
    files: list[PlanFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    safe: bool = True


@dataclass(frozen=True)
class LintReport(Document):
    """The problems ``migrate lint`` found in a migration directory."""

    KIND: ClassVar[str] = "migration-lint"

    directory: str
    files: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Finding(Document):
    """Something found broken: by a health check, a migration, a command."""

    KIND: ClassVar[str] = "finding"

    check: str
    source: Literal["http", "tcp", "postgres", "migration", "command", "test", "log"]
    error: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    traceback: str = ""
    ts: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    hint: str = ""
    sqlstate: str = ""


@dataclass(frozen=True)
class Snippet(Record):
    path: str
    first_line: int
    lines: list[str]
    error_line: int | None = None


@dataclass(frozen=True)
class BugReport(Document):
    KIND: ClassVar[str] = "bug-report"

    fingerprint: str
    error: str
    error_type: str = ""
    traceback: str = ""
    file: str | None = None
    line: int | None = None
    snippet: Snippet | None = None
    breadcrumbs: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    redactions: int = 0
    service: str = ""
    report_id: str = ""


@dataclass(frozen=True)
class Edit(Record):
    """One change of a patch; which fields apply depends on ``op``."""

    op: Literal["replace", "line", "create", "delete", "rename"]
    path: str
    search: str | None = None
    replace: str | None = None
    line: int | None = None
    old: str | None = None
    new: str | None = None
    content: str | None = None
    to: str | None = None
    mode: int | None = None


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
class Diagnosis(Document):
    KIND: ClassVar[str] = "diagnosis"

    provider: str
    summary: str
    explanation: str = ""
    confidence: float = 0.0
    patch: Patch | None = None
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
class Event(Document):
    KIND: ClassVar[str] = "event"

    ts: str
    type: str
    subject: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    pid: int = 0


@dataclass(frozen=True)
class ErrorDocument(Document):
    KIND: ClassVar[str] = "error"

    code: str
    message: str
    hint: str = ""


@dataclass(frozen=True)
class MigrationStep(Record):
    """One file ``migrate apply``/``verify`` ran (or, in a dry run, tried and rolled back)."""

    path: str
    checksum: str
    status: Literal["applied", "dry_run", "skipped", "repaired", "failed"]
    duration_ms: float = 0.0
    transaction: bool = True
    reason: str = ""
    diff: str = ""


@dataclass(frozen=True)
class MigrationRun(Document):
    """What ``migrate apply`` or ``migrate verify`` did (printed when nothing failed)."""

    KIND: ClassVar[str] = "migration-run"

    directory: str
    database: str
    command: Literal["apply", "verify"] = "apply"
    dry_run: bool = False
    steps: list[MigrationStep] = field(default_factory=list)
    already_applied: int = 0
    throwaway: str = ""
    duration_ms: float = 0.0


@dataclass(frozen=True)
class MigrationState(Record):
    """One row of ``migrate status``."""

    path: str
    state: Literal["applied", "pending", "changed", "failed", "missing-locally"]
    position: int | None = None
    checksum: str = ""
    recorded_checksum: str = ""
    applied_at: str = ""
    execution_order: int | None = None
    duration_ms: float | None = None
    error: str = ""


@dataclass(frozen=True)
class MigrationStatus(Document):
    KIND: ClassVar[str] = "migration-status"

    directory: str
    database: str
    files: list[MigrationState] = field(default_factory=list)
    ok: bool = True


KINDS: dict[str, type[Document]] = {
    cls.KIND: cls
    for cls in (MigrationPlan, LintReport, Finding, BugReport, Patch, Diagnosis, PatchResult, Event,
                ErrorDocument)
}
KINDS.update({cls.KIND: cls for cls in (MigrationRun, MigrationStatus)})


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
class PatchRecovery(Document):
    """What ``patch recover`` did with the journals a crash left behind."""

    KIND: ClassVar[str] = "patch-recovery"

    recovered: list[RecoveredPatch] = field(default_factory=list)


KINDS.update({cls.KIND: cls for cls in (PatchRecord, PatchList, PatchRecovery)})


def load_document(text: str | bytes, *, source: str = "input",
                  accept: tuple[type[Document], ...] = ()) -> Document:
    """Parse JSON text into the document its ``kind`` names.

    ``accept`` limits the kinds a command takes; anything else is a DocumentError
    naming ``source`` (a path or ``<stdin>``).
    """
    try:
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{source}: input is not valid UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
            hint="Pass a document printed by another calctl command with --json.",
        ) from exc
    if not isinstance(data, dict):
        raise DocumentError(f"{source}: a document must be a JSON object with a \"kind\"")
    kind = data.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise DocumentError(f"{source}: field kind: unknown document kind {kind!r}",
                            hint="Known kinds: " + ", ".join(sorted(KINDS)))
    if accept and cls not in accept:
        raise DocumentError(
            f"{source}: a {kind} document is not accepted here",
            hint="Expected " + " or ".join(c.KIND for c in accept) + ".",
        )
    try:
        return cls.from_dict(data)  # type: ignore[no-any-return]
    except DocumentError as exc:
        raise DocumentError(f"{source}: {exc.message}", hint=exc.hint) from None


# ---------------------------------------------------------------- validation


def _dump(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _build(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise DocumentError(f"field {where or cls.__name__}: expected an object")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    names = {f.name: f for f in dataclasses.fields(cls)}
    for name, f in names.items():
        path = f"{where}.{name}" if where else name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DocumentError(f"field {path}: missing")
            continue
        kwargs[name] = _check(data[name], hints[name], path)
    return cls(**kwargs)


def _describe(kind: Any) -> str:
    origin = get_origin(kind)
    if origin is list:
        return "a list"
    if origin is dict:
        return "an object"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(kind))
    if isinstance(kind, type) and issubclass(kind, Record):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, str(kind)
    )


def _check(value: Any, kind: Any, path: str) -> Any:
    origin = get_origin(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(kind)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check(value, inner[0], path)
    if origin is Literal:
        if value not in get_args(kind):
            raise DocumentError(f"field {path}: expected {_describe(kind)}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise DocumentError(f"field {path}: expected a list, got {type(value).__name__}")
        (item,) = get_args(kind)
        return [_check(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise DocumentError(f"field {path}: expected an object, got {type(value).__name__}")
        _, vtype = get_args(kind)
        return {str(k): _check(v, vtype, f"{path}.{k}") for k, v in value.items()}
    if isinstance(kind, type) and issubclass(kind, Record):
        return _build(kind, value, path)
    ok = (
        (kind is bool and isinstance(value, bool))
        or (kind is int and isinstance(value, int) and not isinstance(value, bool))
        or (kind is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (kind is str and isinstance(value, str))
    )
    if not ok:
        raise DocumentError(f"field {path}: expected {_describe(kind)}, got {value!r:.60}")
    return float(value) if kind is float else value
