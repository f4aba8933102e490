"""The diagnoser chain: each provider in order, stopping at the first diagnosis whose
patch validates.

A patch is validated exactly as ``calctl patch apply`` validates it
(:func:`calctl.patch.validate.plan_patch` under the project's confinement: inside the
root, not ``.git`` or the state directory, no protected path, no applied migration,
search text found once …), in memory: nothing is written. A diagnosis without a
patch, or whose patch is refused, is kept as advice and the chain goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from calctl.documents.report import BugReport, Diagnosis
from calctl.errors import CalctlError, ExternalError
from calctl.providers.base import Provider, ProviderContext, ProviderResult


@dataclass(frozen=True)
class ChainResult:
    """What the chain produced: the diagnosis to use (with a validated patch when
    ``fixed``), and every provider's result in order."""

    diagnosis: Diagnosis | None
    fixed: bool
    results: list[ProviderResult] = field(default_factory=list)

    @property
    def reached_any(self) -> bool:
        return any(r.reached for r in self.results)


def patch_problems(diagnosis: Diagnosis, ctx: ProviderContext) -> list[str]:
    """Why the diagnosis's patch would be refused by ``patch apply`` ([] when it
    validates); a patch whose edits are all in place already is no fix either."""
    from calctl.patch.context import PatchEnv, confinement
    from calctl.patch.parse import expand
    from calctl.patch.validate import plan_patch
    from calctl.patch.verify import parse_commands

    if diagnosis.patch is None:
        return ["no patch"]
    settings = ctx.settings
    try:
        patch = expand(diagnosis.patch, source=f"{diagnosis.provider} diagnosis")
        rules = confinement(settings, allow_protected=False, app_database_url=ctx.database_url,
                            verify_commands=parse_commands(settings.patch.verify))
        plan = plan_patch(patch, rules, PatchEnv.from_settings(settings).limits)
    except CalctlError as exc:
        return [exc.message]
    if plan.refused:
        return plan.reasons
    if plan.already_applied:
        return ["every edit of the patch is already in the files"]
    return []


def run_chain(report: BugReport, providers: Sequence[Provider], ctx: ProviderContext,
              on_result: Callable[[ProviderResult, list[str]], None] | None = None,
              ) -> ChainResult:
    """Ask ``providers`` in order; stop at the first diagnosis whose patch validates.

    ``on_result`` sees each result and the reasons its patch was refused (events)."""
    results: list[ProviderResult] = []
    advice: Diagnosis | None = None
    for provider in providers:
        try:
            result = provider.diagnose(report, ctx)
        except ExternalError as exc:  # a provider should say so in its result; be kind
            result = ProviderResult(provider.name, None, exc.message, reached=False)
        problems: list[str] = []
        if result.diagnosis is not None:
            diagnosis = replace(result.diagnosis, report_id=report.report_id,
                                fingerprint=report.fingerprint)
            if diagnosis.patch is not None:
                problems = patch_problems(diagnosis, ctx)
                if not problems:
                    patch = replace(diagnosis.patch, report_id=report.report_id,
                                    fingerprint=report.fingerprint)
                    fixed = replace(diagnosis, patch=patch)
                    result = replace(result, diagnosis=fixed)
                    results.append(result)
                    if on_result is not None:
                        on_result(result, [])
                    return ChainResult(fixed, True, results)
                result = replace(result, diagnosis=diagnosis, reason=(
                    "its patch does not validate: " + "; ".join(problems[:5])))
                diagnosis = replace(diagnosis, patch=None)
            if advice is None:
                advice = diagnosis
        results.append(result)
        if on_result is not None:
            on_result(result, problems)
    return ChainResult(advice, False, results)


def diagnose(report: BugReport, providers: Sequence[Provider],
             ctx: ProviderContext) -> Diagnosis | None:
    """The diagnosis the chain settles on (with a validated patch, or advice), if any —
    what the healer calls in-process."""
    return run_chain(report, providers, ctx).diagnosis
