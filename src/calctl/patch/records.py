"""The audit trail of patches: ``guardian_patch_applications`` rows and events.

Both are optional (``None`` when a caller has neither), so the core works
embedded in tests or other tools; the CLI always passes the store and log.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calctl.events.log import EventLog
    from calctl.store.base import Store


class Trail:
    """Where one command writes its rows and events."""

    def __init__(self, store: Store | None, events: EventLog | None) -> None:
        self.store = store
        self.events = events

    def emit(self, type_: str, patch_id: str, data: dict[str, Any]) -> None:
        if self.events is not None:
            self.events.emit(type_, patch_id, data)

    def add(self, *, patch_id: str, files: list[str], status: str, success: bool,
            description: str, snapshot_id: str | None, report_id: str, source: str,
            line: int | None, document: dict[str, Any]) -> None:
        if self.store is None:
            return
        self.store.add_patch_application(
            patch_id=patch_id, file_path=", ".join(files) or "-", status=status,
            success=success, description=description, line_number=line,
            snapshot_id=snapshot_id, report_id=report_id or None, source=source,
            document=document)

    def update(self, patch_id: str, *, status: str, success: bool | None = None,
               rolled_back: bool | None = None, verify_output: str | None = None,
               verified: bool = False, error: str | None = None) -> None:
        if self.store is None:
            return
        self.store.update_patch_application(
            patch_id, status=status, success=success, rolled_back=rolled_back,
            verify_output=verify_output, verified=verified, error=error)

    def exists(self, patch_id: str) -> bool:
        return self.store is not None and self.store.patch_application(patch_id) is not None

    def row(self, patch_id: str) -> dict[str, Any] | None:
        if self.store is None:
            return None
        row = self.store.patch_application(patch_id)
        if row is not None and isinstance(row.get("document"), str):
            row = dict(row)
            try:
                row["document"] = json.loads(row["document"])
            except ValueError:
                row["document"] = None
        return row
