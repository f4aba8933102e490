"""Applying a patch all-or-nothing: validate, snapshot, journal, write, verify, keep or undo.

::

    lock ─ recover leftovers ─ plan (in memory) ─┬─ refused → nothing written
                                                 ├─ already applied → nothing written
                                                 └─ journal prepared → snapshot → writing
                                                    → atomic writes → applied → verifying
                                                    → verified (→ git commit)
                                                    └→ rolling_back → rolled_back

One patch at a time per project: everything after the lock runs under the
``patch`` file lock, which the kernel releases if the process dies.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from calctl.config import Settings
from calctl.documents import Edit, Patch, PatchResult, VerifyRun
from calctl.errors import UsageError
from calctl.ids import new_id
from calctl.interrupts import HANDLED, Interrupted
from calctl.output import plural
from calctl.patch import diffs, snapshot, verify
from calctl.patch.context import PatchEnv, app_database_url, confinement
from calctl.patch.journal import Journal, in_flight_path
from calctl.patch.parse import expand
from calctl.patch.records import Trail
from calctl.patch.recover import UNTRUSTED_NOTE, recover_locked
from calctl.patch.undo import undo
from calctl.patch.validate import Plan, plan_patch


@dataclass(frozen=True)
class ApplyOptions:
    """Per-call choices; ``None`` means "as configured"."""

    verify: tuple[str, ...] | None = None
    verify_timeout: float | None = None
    no_verify: bool = False
    dry_run: bool = False
    allow_protected: bool = False
    git: bool | None = None
    git_branch: bool | None = None
    source: str = "manual"
    lock_timeout: float | None = None
    app_database_url: str | None = None
    verify_env: Mapping[str, str] | None = None
    # In-process verifications run after the commands, in the same "verifying" phase
    # (the healer's re-run of the failing check, ``migrate verify``): a crash during one
    # leaves the journal there, so recovery rolls the patch back like a crash in a command.
    # Each returns its run; one that raises counts as an interrupted apply.
    checks: tuple[Callable[[], VerifyRun], ...] = ()


def apply_patch(patch: Patch, settings: Settings, options: ApplyOptions,
                trail: Trail) -> PatchResult:
    """Apply ``patch`` to the project of ``settings``; returns what happened."""
    started = time.monotonic()
    timings: dict[str, float] = {}
    patch = expand(patch)
    _check_name_lengths(patch)
    env = PatchEnv.from_settings(settings, lock_timeout=options.lock_timeout)
    commands_text = (() if options.no_verify
                     else options.verify if options.verify else settings.patch.verify)
    commands = verify.parse_commands(commands_text)
    timeout = options.verify_timeout or settings.patch.verify_timeout
    use_git = settings.patch.git if options.git is None else options.git
    git_branch = settings.patch.git_branch if options.git_branch is None else options.git_branch
    # The configured commands count under --no-verify or --verify too: a later run of
    # them must not find its script rewritten.
    judged = commands + verify.parse_commands(settings.patch.verify)
    rules = confinement(settings, allow_protected=options.allow_protected,
                        app_database_url=options.app_database_url or app_database_url(settings),
                        verify_commands=judged)

    if options.dry_run:
        plan = plan_patch(patch, rules, env.limits)
        status = "refused" if plan.refused else (
            "already_applied" if plan.already_applied else "dry_run")
        return _result("", status, patch, plan, diff=diffs.render(plan.changes),
                       timings={"total": _since(started)})

    env.state.ensure()
    with env.state.lock("patch", timeout=env.lock_timeout, purpose="patch apply"):
        timings["lock"] = _since(started)
        if trail.events is not None:
            trail.events.check()  # a broken event log refuses the patch before any write
        recovered = recover_locked(env, trail)
        notes = [f"recovered interrupted patch {r.patch_id} ({r.action})"
                 for r in recovered.recovered]
        notes += [f"{UNTRUSTED_NOTE}{s.path}: {s.reason}; left in place"
                  for s in recovered.skipped]
        patch_id = new_id()
        mark = time.monotonic()
        plan = plan_patch(patch, rules, env.limits)
        timings["validate"] = _since(mark)
        repo = None
        if not plan.refused and plan.changes and use_git:
            from calctl.patch.gitmode import GitRepo

            repo = GitRepo(env.root)
            dirty = repo.dirty(plan.files)
            if dirty:
                plan = Plan([], plan.outcomes, [
                    f"{path}: has uncommitted changes; git mode never commits the user's work"
                    for path in dirty])
        if plan.refused:
            return _refused(patch_id, patch, plan, options, trail, notes, timings, started)
        if plan.already_applied:
            trail.add(patch_id=patch_id, files=[o.path for o in plan.outcomes],
                      status="already_applied", success=True, description=patch.description,
                      snapshot_id=None, report_id=patch.report_id, source=options.source,
                      line=_first_line(patch.edits), document={"patch": patch.to_dict()})
            timings["total"] = _since(started)
            return _result(patch_id, "already_applied", patch, plan, notes=notes,
                           timings=timings)
        return _execute(env, patch_id, patch, plan, commands, timeout, options, trail, notes,
                        timings, started, repo, git_branch)


def _execute(env: PatchEnv, patch_id: str, patch: Patch, plan: Plan,
             commands: list[list[str]], timeout: float, options: ApplyOptions, trail: Trail,
             notes: list[str], timings: dict[str, float], started: float, repo: Any,
             git_branch: bool) -> PatchResult:
    diff = diffs.render(plan.changes)
    journal = Journal.begin(
        env.state, patch_id, description=patch.description, files=plan.files,
        report_id=patch.report_id, source=options.source, patch=patch.to_dict(),
        verify_planned=bool(commands) or bool(options.checks),
        verify_commands=[verify.shown(c) for c in commands],
        diff=diff, status="prepared")
    mark = time.monotonic()
    manifest = snapshot.take(env.state, patch_id, env.root, plan.changes)
    journal.advance("writing")
    try:
        snapshot.write_after(env.root, plan.changes, manifest, tag=patch_id)
    except OSError as exc:
        reason = f"writing failed: {exc.strerror or exc}" + (
            f" ({exc.filename})" if getattr(exc, "filename", None) else "")
        undo(env, journal, reason)
        _record(trail, patch_id, patch, plan, options, "failed", False, diff)
        trail.update(patch_id, status="failed", success=False, rolled_back=True, error=reason)
        trail.emit("patch.rolled_back", patch_id, {"reason": reason, "files": plan.files})
        timings["total"] = _since(started)
        return _result(patch_id, "failed", patch, plan, diff=diff, reasons=[reason],
                       notes=notes, timings=timings)
    except BaseException as exc:  # a signal half-way through the writes
        raise _abandon(env, journal, trail, patch_id, plan, exc) from None
    timings["write"] = _since(mark)
    try:
        journal.advance("applied", status="applied")
        _record(trail, patch_id, patch, plan, options, "applied", True, diff)
        trail.emit("patch.applied", patch_id, {"files": plan.files,
                                               "description": patch.description,
                                               "report_id": patch.report_id})
        if not commands and not options.checks:
            notes.append("not verified (--no-verify)" if options.no_verify
                         else "not verified: no verify command configured ([patch] verify)")
            journal.finish()
            timings["total"] = _since(started)
            return _result(patch_id, "applied", patch, plan, diff=diff, notes=notes,
                           timings=timings)

        journal.advance("verifying")
        mark = time.monotonic()
        runs = verify.run_all(commands, cwd=env.root, timeout=timeout, env=options.verify_env,
                              state=env.state, patch_id=patch_id)
        for check in options.checks if all(verify.passed(r) for r in runs) else ():
            runs.append(check())
            if not verify.passed(runs[-1]):
                break
        timings["verify"] = _since(mark)
        output = _output(runs)
        failed = next((r for r in runs if not verify.passed(r)), None)
        if failed is None:
            journal.advance("verified", status="verified",
                            verification=[r.to_dict() for r in runs])
            trail.update(patch_id, status="verified", success=True, verify_output=output,
                         verified=True)
            trail.emit("patch.verified", patch_id, {"files": plan.files,
                                                    "commands": [r.command for r in runs]})
            commit = ""
            if repo is not None:
                from calctl.patch.gitmode import commit_message

                branch = f"calctl/patch-{patch_id}" if git_branch else None
                commit = repo.commit(plan.files, commit_message(
                    patch_id, patch.description, patch.report_id, plan.files,
                    fingerprint=patch.fingerprint), branch=branch)
                journal.update(git_commit=commit, git_branch=branch)
                notes.append(f"committed {commit[:12]}" + (f" on {branch}" if branch else ""))
            journal.finish()
            timings["total"] = _since(started)
            return _result(patch_id, "verified", patch, plan, diff=diff, runs=runs, notes=notes,
                           timings=timings, git_commit=commit)

        why = (f"verify command {failed.command!r} "
               + (f"timed out after {timeout:g} s" if failed.timed_out
                  else f"exited with {failed.returncode}"))
        journal.update(verification=[r.to_dict() for r in runs])
        mark = time.monotonic()
        with _signals_held(drop=False):  # a Ctrl-C now waits for the rollback to finish
            restored = undo(env, journal, why)
        timings["rollback"] = _since(mark)
        trail.update(patch_id, status="rolled_back", success=False, rolled_back=True,
                     verify_output=output, error=why)
        trail.emit("patch.rolled_back", patch_id, {"reason": why, "files": plan.files,
                                                   "restored": restored})
        timings["total"] = _since(started)
        return _result(patch_id, "rolled_back", patch, plan, diff=diff, runs=runs, reasons=[why],
                       notes=notes, timings=timings)
    except BaseException as exc:
        raise _abandon(env, journal, trail, patch_id, plan, exc) from None


# What Linux filesystems take (NAME_MAX, PATH_MAX): a longer name can be neither read nor
# written, and the error would come from the middle of planning or writing.
NAME_MAX = 255
PATH_MAX = 4095


def _check_name_lengths(patch: Patch) -> None:
    """UsageError (nothing read or written) when a path of ``patch`` cannot exist."""
    for n, edit in enumerate(patch.edits, 1):
        for path in (edit.path, edit.to):
            if path is None:
                continue
            raw = path.encode("utf-8", "surrogatepass")
            long = next((p for p in raw.split(b"/") if len(p) > NAME_MAX), None)
            if long is not None or len(raw) > PATH_MAX:
                what = (f"a component of {len(long)} bytes" if long is not None
                        else f"{len(raw)} bytes")
                raise UsageError(
                    f"edit {n} ({edit.op}): path {path[:60]!r}… has {what}, longer than a "
                    f"filesystem allows ({NAME_MAX} per component, {PATH_MAX} in all); "
                    "nothing was applied", hint="Check the patch's paths.",
                    code="path-too-long")


def _abandon(env: PatchEnv, journal: Journal, trail: Trail, patch_id: str, plan: Plan,
             exc: BaseException) -> BaseException:
    """The patch was written but the apply did not get to its end (a signal during
    verification, the event log or store failing): restore the snapshot before the
    exception goes on, so that no file stays patched unverified. A patch already verified
    is kept (only its git commit or bookkeeping failed).

    Returns the exception to raise, with a note saying what happened; Ctrl-C becomes
    :class:`Interrupted` (the CLI shows notes, and keeps the exit code 130)."""
    if journal.phase not in ("writing", "applied", "verifying") or \
            not in_flight_path(env.state, patch_id).exists():  # finished: kept as it is
        return exc
    signum = _signal_of(exc)
    if isinstance(exc, KeyboardInterrupt):
        interrupted = Interrupted(signal.SIGINT)
        interrupted.__cause__ = exc
        exc = interrupted
    why = (f"interrupted by {signal.Signals(signum).name} during "
           f"{'verification' if journal.phase == 'verifying' else 'the apply'}"
           if signum else f"the apply failed after writing: {_message(exc)}")
    with _signals_held(drop=signum is not None):
        try:
            restored = undo(env, journal, why)
        except BaseException as failed:  # the original error still goes on; say both
            exc.add_note(f"calctl: patch {patch_id} was NOT rolled back ({_message(failed)}); "
                         "run `calctl patch recover`")
            return exc
        exc.add_note(f"calctl: patch {patch_id} {why}; rolled back, "
                     f"{plural(len(restored), 'file')} restored")
        # the files are back; the trail is best effort (it may be what failed)
        with contextlib.suppress(Exception):
            trail.update(patch_id, status="rolled_back", success=False, rolled_back=True,
                         error=why)
        with contextlib.suppress(Exception):
            trail.emit("patch.rolled_back", patch_id,
                       {"reason": why, "files": plan.files, "restored": restored})
    return exc


def _signal_of(exc: BaseException) -> int | None:
    if isinstance(exc, Interrupted):
        return exc.signum
    if isinstance(exc, KeyboardInterrupt):
        return int(signal.SIGINT)
    return None


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", "") or exc or type(exc).__name__)


@contextlib.contextmanager
def _signals_held(*, drop: bool) -> Iterator[None]:
    """Hold off SIGINT/SIGTERM/SIGHUP while the snapshot is restored: a second Ctrl-C
    must not cut a rollback short. With ``drop`` (already ending for a signal) those that
    came meanwhile are discarded rather than raised afresh."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED)
    try:
        yield
    finally:
        if drop:
            pending = signal.sigpending() & set(HANDLED)
            for signum in pending:
                signal.sigtimedwait([signum], 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _refused(patch_id: str, patch: Patch, plan: Plan, options: ApplyOptions, trail: Trail,
             notes: list[str], timings: dict[str, float], started: float) -> PatchResult:
    files = sorted({o.path for o in plan.outcomes})
    trail.add(patch_id=patch_id, files=files, status="refused", success=False,
              description=patch.description, snapshot_id=None, report_id=patch.report_id,
              source=options.source, line=_first_line(patch.edits),
              document={"patch": patch.to_dict(), "reasons": plan.reasons})
    trail.emit("patch.refused", patch_id, {"reasons": plan.reasons, "files": files})
    timings["total"] = _since(started)
    return _result(patch_id, "refused", patch, plan, notes=notes, timings=timings)


def _record(trail: Trail, patch_id: str, patch: Patch, plan: Plan, options: ApplyOptions,
            status: str, success: bool, diff: str) -> None:
    trail.add(patch_id=patch_id, files=plan.files, status=status, success=success,
              description=patch.description, snapshot_id=patch_id, report_id=patch.report_id,
              source=options.source, line=_first_line(patch.edits),
              document={"patch": patch.to_dict(), "diff": diff})


def _first_line(edits: list[Edit]) -> int | None:
    return next((e.line for e in edits if e.line is not None), None)


def _output(runs: list[VerifyRun]) -> str:
    return "\n".join(f"$ {r.command}\n{r.output_tail}" for r in runs)


def _since(mark: float) -> float:
    return round(time.monotonic() - mark, 4)


def _result(patch_id: str, status: str, patch: Patch, plan: Plan, *, diff: str = "",
            runs: list[VerifyRun] | None = None, reasons: list[str] | None = None,
            notes: list[str] | None = None, timings: dict[str, float] | None = None,
            git_commit: str = "") -> PatchResult:
    failed = next((r for r in (runs or []) if not verify.passed(r)), None)
    return PatchResult(
        patch_id=patch_id,
        status=status,  # type: ignore[arg-type]
        snapshot_id=patch_id if status in ("applied", "verified", "rolled_back", "failed")
        else "",
        files=plan.files,
        reasons=[*plan.reasons, *(reasons or [])],
        verification_output=failed.output_tail if failed else (
            runs[-1].output_tail if runs else ""),
        diff=diff,
        timings=timings or {},
        description=patch.description,
        outcomes=plan.outcomes,
        verification=runs or [],
        notes=notes or [],
        git_commit=git_commit,
    )



