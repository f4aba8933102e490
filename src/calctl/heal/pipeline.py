"""``guard once --heal``: each unhealthy check with ``heal = true``, from finding to kept fix.

::

    lock (file; advisory on a PostgreSQL store) ─ recover patches in flight ─ close
    interrupted heal runs ─ for each finding:
      finding ─► bug report (scrubbed) ─► diagnosers ([report] providers, in order:
      the first patch that validates) ─► budget left? ─► patch apply (validation,
      snapshot, journal) ─► verification: [patch]+[heal] verify commands, the check
      again, migrate verify --order filename when migrations changed
        ├─ passed: kept (git mode: committed with the fingerprint) ─► learned in
        │          calctl_fix_memory ─► (migrations check with apply = true: applied)
        └─ failed: rolled back byte-for-byte ─► a replayed fix is forgotten
      ─► a calctl_heal_runs row ─► heal.* events

The seam the guard calls (:class:`calctl.guard.once.Healer`): findings in, one
outcome dict per finding out (``check``, ``outcome`` — ``verified``, ``failed``,
``no_fix``, ``skipped`` —, ``provider``, ``from_memory``, ``patch_id``,
``seconds_to_repair`` …); the guard runs the verified checks again for its document.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from calctl.errors import CalctlError
from calctl.heal import records, verification
from calctl.heal.locks import healer_lock, project_key
from calctl.heal.records import HealRun
from calctl.output import plural

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.config.checks import CheckSpec
    from calctl.documents import Diagnosis, Finding, Patch, PatchResult, VerifyRun
    from calctl.events.log import EventLog
    from calctl.guard.model import Outcome
    from calctl.report.command import ReportOutcome
    from calctl.store.base import Store


def heal(findings: list[Finding], settings: Settings, store: Store, *, events: EventLog,
         checks: Sequence[CheckSpec], recheck: Callable[[CheckSpec], Outcome],
         dry_run: bool = False) -> list[dict[str, Any]]:
    """Heal each finding in turn under the healer lock; LockedError (exit 3) when
    another healer of this project is at work."""
    dry = dry_run or settings.heal.dry_run
    online = [p for p in settings.report.providers if p not in ("memory", "rules")]
    if not dry and (verification.commands(settings) or online or settings.report.publish):
        settings.require_trusted_config("run the verify commands and send the bug reports "
                                        "its [patch], [heal] and [report] sections name")
    specs = {s.name: s for s in checks}
    project = project_key(settings)
    with healer_lock(settings, store):
        _recover(settings, store, events, project)
        healer = _Healer(settings, store, events, project, recheck, dry)
        return [healer.one(f, specs.get(f.check)) for f in findings]


def _recover(settings: Settings, store: Store, events: EventLog, project: str) -> None:
    from calctl.heal.recovery import recover_interrupted

    recover_interrupted(settings, store, events)
    for run_id in records.close_interrupted(store, project):
        events.emit("heal.interrupted", run_id, {"project": project})


class _Healer:
    def __init__(self, settings: Settings, store: Store, events: EventLog, project: str,
                 recheck: Callable[[CheckSpec], Outcome], dry: bool) -> None:
        self.settings = settings
        self.store = store
        self.events = events
        self.project = project
        self.recheck = recheck
        self.dry = dry

    def emit(self, type_: str, run: HealRun, **data: Any) -> None:
        self.events.emit(type_, run.check, {"heal_run": run.id, "check": run.check, **data})

    def one(self, finding: Finding, spec: CheckSpec | None) -> dict[str, Any]:
        run = HealRun(check=finding.check, project=self.project,
                      detail={"finding": finding.to_dict()})
        self.emit("heal.started", run, error=finding.error, file=finding.file,
                  line=finding.line, dry_run=self.dry)
        if not self.dry:
            records.start(self.store, run)
        try:
            return self._one(run, finding, spec)
        except CalctlError as exc:  # a step could not run (store, lock, peer …): this check
            # a patch that never got applied is no failed fix (the heal rate counts those)
            return self._finish(run, "failed" if run.patch_id else "skipped",
                                reason=exc.message)

    def _finish(self, run: HealRun, outcome: str, **detail: Any) -> dict[str, Any]:
        if self.dry:
            run.detail.update(detail)
            stored = {**run.detail, "from_memory": run.provider == "memory"}
        else:
            stored = records.finish(self.store, run, outcome, **detail)
        result = {"check": run.check, "outcome": outcome, "fingerprint": run.fingerprint,
                  "report_id": run.report_id, "provider": run.provider,
                  "from_memory": run.provider == "memory", "patch_id": run.patch_id,
                  "heal_run": run.id, "dry_run": self.dry,
                  **{k: v for k, v in stored.items() if k not in ("finding", "project")}}
        self.emit("heal.finished", run, outcome=outcome, provider=run.provider,
                  fingerprint=run.fingerprint, patch_id=run.patch_id,
                  reason=stored.get("reason", ""),
                  seconds_to_repair=stored.get("seconds_to_repair"))
        return result

    def _one(self, run: HealRun, finding: Finding, spec: CheckSpec | None) -> dict[str, Any]:
        target = _target_url(self.settings, spec)
        reported = self._report(finding, target)
        report = reported.report
        assert report is not None
        run.fingerprint, run.report_id = report.fingerprint, report.report_id
        if not self.dry:
            records.progress(self.store, run)
        self.emit("heal.reported", run, fingerprint=report.fingerprint,
                  report_id=report.report_id, redactions=report.redactions)
        diagnosis = reported.diagnosis
        if not reported.fixed or diagnosis is None or diagnosis.patch is None:
            why = "; ".join(f"{r.provider}: {r.reason}" for r in reported.results if r.reason)
            self.emit("heal.no_fix", run, reason=why)
            return self._finish(run, "no_fix", reason=why or "no diagnoser had a fix",
                                advice=diagnosis.summary if diagnosis else "")
        patch = diagnosis.patch
        run.provider = diagnosis.provider
        if not self.dry:
            records.progress(self.store, run)
        run.detail.update(patch=patch.to_dict(), summary=diagnosis.summary)
        self.emit("heal.diagnosed", run, provider=diagnosis.provider,
                  from_memory=diagnosis.provider == "memory", summary=diagnosis.summary,
                  files=sorted({p for e in patch.edits for p in (e.path, e.to) if p}))
        checks, planned = self._verification(patch, spec, target)
        if not checks and not verification.commands(self.settings):
            why = "nothing to verify the patch with (no check to run again, no verify command)"
            return self._finish(run, "skipped", reason=why)
        if self.dry:
            return self._plan(run, patch, target, planned)
        spent = records.spent_this_hour(self.store, self.project)
        budget = self.settings.heal.budget_per_hour
        if spent >= budget:
            self.emit("heal.budget_exhausted", run, spent=spent, budget=budget)
            return self._finish(run, "skipped", reason="heal budget spent: "
                                f"{plural(spent, 'patch', 'patches')} "
                                f"in the last hour, [heal] budget_per_hour = {budget}; "
                                "reported only")
        return self._apply(run, patch, diagnosis, spec, target, checks)

    def _report(self, finding: Finding, target: str | None) -> ReportOutcome:
        """The report command's own path (build, scrub, diagnose, publish, record),
        given the finding as ``guard once --json | calctl report -`` would; the cooldown
        is skipped (a heal asks afresh, so a fix that just failed is not reused)."""
        from calctl.report.command import ReportRequest, resolve, run_report

        diagnosers = resolve(self.settings.report.providers, "provider")
        publishers: list[Any] | None = None
        if self.dry:  # a dry run asks only what sends nothing, and publishes nothing
            diagnosers = [d for d in diagnosers if getattr(d, "offline", False)]
            publishers = []
        data = json.dumps(finding.to_dict()).encode()
        request = ReportRequest(stream=io.BytesIO(data), stream_name=f"check {finding.check}",
                                force=True)
        return run_report(request, self.settings, store=self.store, events=self.events,
                          diagnosers=diagnosers, publishers=publishers, database_url=target)

    def _verification(self, patch: Patch, spec: CheckSpec | None, target: str | None,
                      ) -> tuple[list[Callable[[], VerifyRun]], list[str]]:
        checks: list[Callable[[], VerifyRun]] = []
        planned = list(verification.commands(self.settings))
        if spec is not None:
            checks.append(lambda: verification.recheck_run(spec, self.recheck))
            planned.append(f"check {spec.name} ({spec.type})")
        directory = verification.migration_dir(self.settings, spec)
        if verification.touches(patch, directory, self.settings.root):
            checks.append(lambda: verification.migrate_verify_run(self.settings, directory,
                                                                  target))
            planned.append("calctl migrate verify --order filename")
        return checks, planned

    def _plan(self, run: HealRun, patch: Patch, target: str | None,
              planned: list[str]) -> dict[str, Any]:
        from calctl.patch.apply import ApplyOptions, apply_patch
        from calctl.patch.records import Trail

        result = apply_patch(patch, self.settings, ApplyOptions(
            dry_run=True, source="heal", app_database_url=target), Trail(None, None))
        self.emit("heal.planned", run, provider=run.provider, files=result.files,
                  verification=planned, status=result.status)
        return self._finish(run, "skipped", reason="dry run: nothing applied",
                            plan={"files": result.files, "diff": result.diff,
                                  "verification": planned, "status": result.status,
                                  "description": patch.description})

    def _apply(self, run: HealRun, patch: Patch, diagnosis: Diagnosis, spec: CheckSpec | None,
               target: str | None, checks: list[Callable[[], VerifyRun]]) -> dict[str, Any]:
        from calctl.patch.apply import ApplyOptions, apply_patch
        from calctl.patch.records import Trail

        commands = verification.commands(self.settings)
        self.emit("heal.patch.applying", run, provider=run.provider,
                  description=patch.description)
        result = apply_patch(patch, self.settings, ApplyOptions(
            verify=commands or None, source="heal", app_database_url=target,
            checks=tuple(checks)), Trail(self.store, self.events))
        run.patch_id = result.patch_id
        runs = [{"command": r.command, "ok": r.returncode == 0 and not r.timed_out,
                 "duration": r.duration, "output": r.output_tail[-1000:]}
                for r in result.verification]
        common: dict[str, Any] = {"files": result.files, "verification": runs,
                                  "patch_status": result.status}
        if result.status == "verified":
            return self._kept(run, patch, diagnosis, spec, target, result, common)
        if run.provider == "memory":
            records.forget(self.store, run.fingerprint)
            self.emit("heal.fix_forgotten", run, fingerprint=run.fingerprint)
        why = "; ".join(result.reasons) or f"the patch ended {result.status}"
        if result.status == "rolled_back":
            self.emit("heal.patch.rolled_back", run, patch_id=result.patch_id, reason=why)
        else:
            self.emit("heal.patch.failed", run, patch_id=result.patch_id, status=result.status,
                      reason=why)
        return self._finish(run, "failed", reason=why, rolled_back=result.status in (
            "rolled_back", "failed"), **common)

    def _kept(self, run: HealRun, patch: Patch, diagnosis: Diagnosis, spec: CheckSpec | None,
              target: str | None, result: PatchResult, common: dict[str, Any]) -> dict[str, Any]:
        self.emit("heal.patch.verified", run, patch_id=result.patch_id, files=result.files,
                  git_commit=result.git_commit)
        records.learn(self.store, run.fingerprint, patch.to_dict(),
                      diagnosis.summary or patch.description)
        self.emit("heal.learned", run, fingerprint=run.fingerprint, provider=run.provider)
        extra: dict[str, Any] = {"git_commit": result.git_commit}
        if spec is not None and spec.type == "migrations" and spec.options.get("apply"):
            extra["migrations_applied"] = self._apply_migrations(run, spec, target)
        return self._finish(run, "verified", reason="", **common, **extra)

    def _apply_migrations(self, run: HealRun, spec: CheckSpec, target: str | None) -> Any:
        """``apply = true``: the pending files, in filename order (now safe), to the target."""
        from calctl.migrate.commands import Source, apply_command
        from calctl.migrate.engine import ApplyOptions as MigrateOptions

        if not target:
            return {"error": "no database URL for the check"}
        directory = verification.migration_dir(self.settings, spec)
        try:
            done = apply_command(self.settings, Source(directory.absolute(), "filename"),
                                 target, MigrateOptions(),
                                 lock_timeout=self.settings.migrate.lock_timeout)
        except CalctlError as exc:
            self.emit("heal.migrations.failed", run, reason=exc.message)
            return {"error": exc.message}
        steps = [s.path for s in getattr(done.document, "steps", []) or []
                 if s.status == "applied"]
        if done.exit_code:
            error = str(getattr(done.document, "error", "a migration failed"))
            self.emit("heal.migrations.failed", run, reason=error)
            return {"error": error}
        self.emit("heal.migrations.applied", run, files=steps)
        return steps


def _target_url(settings: Settings, spec: CheckSpec | None) -> str | None:
    """The application database the failing check looks at (the rules provider and
    the patch engine read its history so an applied migration is never renamed)."""
    from calctl.migrate.target import resolve_url

    variable = spec.options.get("database_url_env") if spec is not None else None
    if variable and os.environ.get(str(variable)):
        return os.environ[str(variable)]
    return resolve_url(None, settings.migrate, required=False)
