"""Documents of failures: findings, bug reports and diagnoses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from calctl.documents.base import Document, Record
from calctl.documents.patch import Patch


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
    redactions_by_type: dict[str, int] = field(default_factory=dict)


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
