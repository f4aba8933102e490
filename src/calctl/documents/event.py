"""The audit trail's event and the error document every command prints on failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from calctl.documents.base import Document


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
