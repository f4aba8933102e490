"""``rules``: offline diagnoses of migration failures, one rule per file. No network.

Adding a rule: its file ``fixNNN_<name>.py`` (a :class:`FixRule` whose docstring is its
documentation), its cases in ``tests/fixtures/fixes/FIXNNN.toml``, and one line in
:data:`RULES`. The first rule that recognises the report answers; a rule that knows
the fault but has no safe fix still says what it is (a diagnosis without a patch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calctl.providers.base import ProviderContext, ProviderResult
from calctl.providers.rules.base import FixRule, Found, RuleInput
from calctl.providers.rules.fix001_forward_dependency import ForwardDependency
from calctl.providers.rules.fix002_already_exists import AlreadyExists
from calctl.providers.rules.fix003_missing_extension import MissingExtension
from calctl.providers.rules.fix004_created_later import CreatedLater
from calctl.providers.rules.fix005_duplicate_version import DuplicateVersion

if TYPE_CHECKING:
    from calctl.documents import BugReport

RULES: tuple[type[FixRule], ...] = (
    ForwardDependency,
    AlreadyExists,
    MissingExtension,
    CreatedLater,
    DuplicateVersion,
)


class RulesProvider:
    name = "rules"
    offline = True

    def outgoing(self, report: BugReport, ctx: ProviderContext) -> dict[str, Any] | None:
        return None

    def diagnose(self, report: BugReport, ctx: ProviderContext) -> ProviderResult:
        from calctl.errors import CalctlError

        inp = RuleInput(report, ctx)
        found: tuple[type[FixRule], Found] | None = None
        try:
            for rule in RULES:
                answer = rule().diagnose(inp)
                if answer is not None:
                    found = (rule, answer)
                    break
        except CalctlError as exc:  # the migration directory cannot be read, say
            return ProviderResult(self.name, reason=f"the rules could not read the "
                                  f"migrations: {exc.message}")
        if found is None:
            return ProviderResult(self.name, reason="no rule recognises this failure")
        return ProviderResult(self.name, diagnosis=to_diagnosis(found[0], found[1], report, ctx))


def to_diagnosis(rule: type[FixRule], found: Found, report: BugReport,
                 ctx: ProviderContext) -> Any:
    from calctl.documents import Diagnosis, Patch
    from calctl.ids import new_id
    from calctl.providers.validation import patch_problems

    patch = None
    explanation = found.explanation
    if found.edits:
        candidate = Patch(id=new_id(), description=f"{rule.code} {rule.name}: {found.summary}",
                          edits=found.edits, report_id=report.report_id,
                          fingerprint=report.fingerprint)
        problems = patch_problems(candidate, ctx)
        if problems:
            explanation += f" (The fix was not offered: {problems[0]}.)"
        else:
            patch = candidate
    return Diagnosis(provider="rules", summary=f"{rule.code} {rule.name}: {found.summary}",
                     explanation=explanation, confidence=found.confidence if patch else 0.5,
                     patch=patch, report_id=report.report_id, fingerprint=report.fingerprint)


__all__ = ["RULES", "FixRule", "RulesProvider"]
