"""The JSON documents that flow between commands (DESIGN §3).

Each is a frozen dataclass with a ``KIND``; ``to_dict()`` adds ``kind`` and
``version``; ``from_dict()`` validates every field against the annotations and
raises :class:`DocumentError` naming the first bad field (``edits[2].path``).
:func:`load_document` reads one from text (a file or stdin) and dispatches on kind.

The documents live in one module per family (``migrate``, ``patch``, ``report``,
``event``) and load on first use: building a frozen dataclass executes generated
code, and a command that prints a migration plan should not pay for the patch and
report documents (DESIGN: cron and CI runs start fast). ``from calctl.documents
import X`` works for every document.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from calctl.documents.base import KINDS, VERSION, Document, Record, kind_class, load_document

if TYPE_CHECKING:
    from calctl.documents.event import ErrorDocument, Event
    from calctl.documents.finding import Finding
    from calctl.documents.guard import CheckResult, GuardRun, HealStats, StatsRow
    from calctl.documents.lintfix import FixItem, LintFix
    from calctl.documents.migrate import (
        Dependency,
        LintReport,
        MigrationPlan,
        MigrationRun,
        MigrationState,
        MigrationStatus,
        MigrationStep,
        Move,
        PlanFile,
        Problem,
    )
    from calctl.documents.patch import (
        Edit,
        EditOutcome,
        Patch,
        PatchList,
        PatchPhase,
        PatchRecord,
        PatchRecovery,
        PatchResult,
        PatchSummary,
        RecoveredPatch,
        SkippedJournal,
        VerifyRun,
    )
    from calctl.documents.report import BugReport, Diagnosis, Snippet

_HOMES = {
    "migrate": ("Dependency", "LintReport", "MigrationPlan", "MigrationRun", "MigrationState",
                "MigrationStatus", "MigrationStep", "Move", "PlanFile", "Problem"),
    "patch": ("Edit", "EditOutcome", "Patch", "PatchList", "PatchPhase", "PatchRecord",
              "PatchRecovery", "PatchResult", "PatchSummary", "RecoveredPatch", "SkippedJournal",
              "VerifyRun"),
    "report": ("BugReport", "Diagnosis", "Snippet"),
    "lintfix": ("FixItem", "LintFix"),
    "finding": ("Finding",),
    "event": ("ErrorDocument", "Event"),
    "guard": ("CheckResult", "GuardRun", "HealStats", "StatsRow"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "KINDS", "VERSION", "BugReport", "CheckResult", "Dependency", "Diagnosis", "Document",
    "Edit", "EditOutcome", "ErrorDocument", "Event", "Finding", "FixItem", "GuardRun",
    "HealStats", "LintFix", "LintReport", "MigrationPlan", "MigrationRun", "MigrationState",
    "MigrationStatus", "MigrationStep", "Move", "Patch", "PatchList",
    "PatchPhase", "PatchRecord", "PatchRecovery", "PatchResult", "PatchSummary", "PlanFile",
    "Problem", "Record", "RecoveredPatch", "SkippedJournal", "Snippet", "StatsRow", "VerifyRun",
    "kind_class", "load_document",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'calctl.documents' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"calctl.documents.{module}"), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value
