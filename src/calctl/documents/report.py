"""Documents of failures: findings, bug reports and diagnoses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from calctl.documents.base import Document, Record
from calctl.documents.finding import Finding as Finding  # its home before guard needed it alone
from calctl.documents.patch import Patch


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
