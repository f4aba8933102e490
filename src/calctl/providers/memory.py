"""``memory``: a fix verified before for the same fingerprint. No network.

The healer remembers a patch once verification kept it (``Store.remember_fix``);
the next report with that fingerprint gets the same patch back, validated again
against the files as they are now. A remembered fix that later failed a heal's
verification (``failures > 0``) is never offered again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calctl.providers.base import ProviderContext, ProviderResult

if TYPE_CHECKING:
    from calctl.documents import BugReport


class MemoryProvider:
    name = "memory"
    offline = True

    def outgoing(self, report: BugReport, ctx: ProviderContext) -> dict[str, Any] | None:
        return None

    def diagnose(self, report: BugReport, ctx: ProviderContext) -> ProviderResult:
        from calctl.documents import Diagnosis, Patch
        from calctl.errors import DocumentError
        from calctl.providers.validation import patch_problems

        if ctx.store is None:
            return ProviderResult(self.name, reason="no audit store to remember fixes in")
        row = ctx.store.recall_fix(report.fingerprint)
        if row is None:
            return ProviderResult(self.name, reason="no fix remembered for this fingerprint")
        if int(row.get("failures") or 0):  # the healer saw it fail verification since
            return ProviderResult(self.name, reason="the remembered fix failed a later "
                                  "verification; it is kept for the record, never replayed")
        try:
            patch = Patch.from_dict(row["patch"])
        except (DocumentError, TypeError, KeyError) as exc:
            return ProviderResult(self.name, reason=f"the remembered fix is not a valid patch: "
                                  f"{exc}")
        problems = patch_problems(patch, ctx)
        if problems:
            return ProviderResult(self.name, reason="the remembered fix no longer applies: "
                                  + problems[0])
        successes = int(row.get("successes") or 1)
        description = str(row.get("description") or patch.description or "a remembered fix")
        diagnosis = Diagnosis(
            provider=self.name,
            summary=description,
            explanation=(f"This fix was verified {successes} time"
                         f"{'s' if successes != 1 else ''} before for the same fault "
                         f"(fingerprint {report.fingerprint})."),
            confidence=0.9,
            patch=patch,
            report_id=report.report_id,
            fingerprint=report.fingerprint,
        )
        return ProviderResult(self.name, diagnosis=diagnosis)
