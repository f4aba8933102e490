"""The ``finding`` document: something found broken.

Its own module (re-exported by ``documents.report``): ``guard once`` builds findings on
every cron run, and the report family imports the patch documents with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from calctl.documents.base import Document


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
