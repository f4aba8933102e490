"""Documents of ``migrate order/lint/apply/verify/status``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from calctl.documents.base import Document, Record


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
    """An object a plan file uses, and the file (and line) that provides it."""

    path: str
    object: str
    line: int | None = None


@dataclass(frozen=True)
class PlanFile(Record):
    """One file of a plan: its place, where it came from, and what it needs."""

    path: str
    position: int
    moved_from: int | None = None
    depends_on: list[Dependency] = field(default_factory=list)
    approximate: bool = False
    transaction: bool = True
    reason: str = ""


@dataclass(frozen=True)
class Move(Record):
    """A file to rename so that filename order is the plan's: right after ``after``
    (by its new name when ``after`` is renamed too: it comes earlier in the list), before
    the file that sorts next. Only files that need something sorting after them are
    listed, never one whose position changes only because others moved."""

    path: str
    after: str
    reason: str = ""


@dataclass(frozen=True)
class MigrationPlan(Document):
    """What ``migrate order`` prints: the files in a dependency-safe order."""

    KIND: ClassVar[str] = "migration-plan"

    directory: str
    files: list[PlanFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    safe: bool = True
    moves: list[Move] = field(default_factory=list)
    # the order "filename order" means: the tool's the directory belongs to (prisma,
    # flyway, goose …) or natural (calctl.sql.layout); "" in plans made before it existed
    order: str = ""


@dataclass(frozen=True)
class LintReport(Document):
    """The problems ``migrate lint`` found in a migration directory."""

    KIND: ClassVar[str] = "migration-lint"

    directory: str
    files: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class MigrationStep(Record):
    """One file ``migrate apply``/``verify`` ran (or, in a dry run, tried and rolled back)."""

    path: str
    checksum: str
    # adopted: recorded as applied in another tool's history (migrate apply --adopt)
    status: Literal["applied", "dry_run", "skipped", "repaired", "failed", "adopted"]
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
    adopted_from: str = ""  # another tool's history that counted: "prisma's …_prisma_migrations"


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
    """What ``migrate status`` prints: the state of each migration against a database."""

    KIND: ClassVar[str] = "migration-status"

    directory: str
    database: str
    files: list[MigrationState] = field(default_factory=list)
    ok: bool = True
    # whose history was read: "calctl" (calctl_migrations), another tool's ("prisma",
    # "golang-migrate", "goose", "flyway", "diesel", "sqlx", "dbmate"), or both
    # ("calctl+prisma"); history_table names the other tool's table
    history: str = "calctl"
    history_table: str = ""
