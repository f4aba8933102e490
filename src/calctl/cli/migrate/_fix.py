"""``migrate lint --fix`` and ``--diff``: the statement rules' fixes of the problems found,
applied as one patch through the patch engine (snapshot, confinement, verification,
rollback), only to migrations nobody can have run yet (:mod:`calctl.migrate.lintfix`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.cli.migrate._formats import OutputFormat

if TYPE_CHECKING:
    from collections.abc import Callable

    import typer

    from calctl.config import Settings
    from calctl.documents import FixItem, LintFix, LintReport, Patch, PatchResult
    from calctl.sql.commands import Discovered

OVERLAP = "its edits overlap another fix of the file; run --fix again to make it"
OUTSIDE = "outside the project root, where no patch may write"
KEPT = ("verified", "applied", "already_applied")


@dataclass(frozen=True)
class FixRequest:
    """The flags of ``migrate lint`` that ask for fixes."""

    diff: bool = False                 # print the patch, change nothing
    force: bool = False                # also files git has committed
    database_url: str | None = None    # the target: never fix what it applied
    # the report as `migrate lint` would print it (selection, baseline, ignores applied)
    report_of: Callable[[Discovered], LintReport] | None = None


def lint_fix(ctx: typer.Context, settings: Settings, path: Path, fmt: OutputFormat,
             request: FixRequest, failing: set[str]) -> int:
    """Fix (or with ``--diff`` show the fixes of) what ``migrate lint`` finds; print the
    outcome; return the exit code."""
    from calctl.documents import LintFix

    run = _discovered(path, settings)
    report = _lint(run, request)
    fixed, skipped, changes = _choose(run, report, settings, request)
    from calctl.migrate.lintfix import fix_patch

    patch = fix_patch(changes, description=_description(fixed)) if changes else None
    if request.diff or patch is None:
        doc = LintFix(directory=str(path), fixed=fixed, skipped=skipped, patch=patch,
                      report=report)
        code = 1 if request.diff and patch is not None else _failing(report, failing)
        _print(doc, path, fmt, settings, [f.path for f in run.files])
        return code
    result = _apply(ctx, settings, patch, request)
    kept = result.status in KEPT
    if kept:
        run = _discovered(path, settings)
    after = _lint(run, request) if kept else report
    doc = LintFix(directory=str(path), applied=kept, fixed=fixed, skipped=skipped,
                  patch=patch, result=result, report=after)
    _print(doc, path, fmt, settings, [f.path for f in run.files])
    return 1 if not kept else _failing(after, failing)


def _discovered(path: Path, settings: Settings) -> Discovered:
    from calctl.cli.migrate._common import cache_dir
    from calctl.sql.cache import file_keys
    from calctl.sql.commands import Discovered
    from calctl.sql.discovery import discover_layout

    migrate = settings.migrate
    files, _ = discover_layout(path, globs=migrate.glob, exclude=migrate.exclude,
                               sort=migrate.sort)
    return Discovered(path, settings, files, file_keys(files, migrate), cache_dir(settings))


def _lint(run: Discovered, request: FixRequest) -> LintReport:
    if request.report_of is not None:
        return request.report_of(run)
    from calctl.sql.commands import lint_report

    return lint_report(run)


def _failing(report: LintReport, failing: set[str]) -> int:
    return int(any(p.severity in failing for p in report.problems))


def _choose(run: Discovered, report: LintReport, settings: Settings, request: FixRequest,
            ) -> tuple[list[FixItem], list[FixItem], list[tuple[str, str, str]]]:
    """The fixes to make, those not to make (each with its reason), and the files'
    changes (path relative to the project root, text before, text after)."""
    from calctl.documents import FixItem
    from calctl.migrate.lintfix import applied_files, refusals
    from calctl.sql.fixes import Fix, lint_fixes, plan_files, project_path

    def item(fix: Fix, reason: str = "") -> FixItem:
        return FixItem(code=fix.code, path=fix.path, line=fix.line, column=fix.column,
                       title=fix.title, reason=reason)

    fixes = lint_fixes(run.path, settings.migrate, report.problems, files=run.files,
                       keys=run.keys, cache_dir=run.cache)
    planned = plan_files(run.files, fixes)
    root = settings.root.resolve()
    where = {plan.file.path: project_path(plan.file, root) for plan in planned}
    inside = [(name, project) for name, project in where.items() if project is not None]
    applied = applied_files(request.database_url) if request.database_url and inside else None
    refused = refusals(root, inside, applied=applied, force=request.force)
    fixed: list[FixItem] = []
    skipped: list[FixItem] = []
    changes: list[tuple[str, str, str]] = []
    for plan in planned:
        project = where[plan.file.path]
        reason = (OUTSIDE if project is None else refused.get(plan.file.path, "")
                  or plan.blocked)
        if reason:
            skipped.extend(item(f, reason) for f in (*plan.fixes, *plan.waiting))
            continue
        skipped.extend(item(f, OVERLAP) for f in plan.waiting)
        if plan.fixes and project is not None:
            fixed.extend(item(f) for f in plan.fixes)
            changes.append((project, plan.before, plan.after))
    return fixed, skipped, changes


def _description(fixed: list[FixItem]) -> str:
    codes = sorted({f.code for f in fixed})
    files = len({f.path for f in fixed})
    return (f"migrate lint --fix: {len(fixed)} problem{'s' if len(fixed) != 1 else ''} "
            f"({', '.join(codes)}) in {files} file{'s' if files != 1 else ''}")


def _apply(ctx: typer.Context, settings: Settings, patch: Patch,
           request: FixRequest) -> PatchResult:
    from calctl.cli._context import app_context
    from calctl.patch.apply import ApplyOptions, apply_patch
    from calctl.patch.records import Trail

    if settings.patch.verify and settings.from_config_file("patch.verify"):
        settings.require_trusted_config("run its [patch] verify commands")
    context = app_context(ctx)
    return apply_patch(patch, settings, ApplyOptions(
        source="lint-fix", app_database_url=request.database_url),
        Trail(context.store(), context.events()))


def _print(doc: LintFix, path: Path, fmt: OutputFormat, settings: Settings,
           files: list[str]) -> None:
    """``--json``: the document; ``text``: the problems left, then the fixes; another
    format: the problems left in it on stdout, the fixes on stderr."""
    from calctl.cli.migrate._render import render_lint

    if fmt is OutputFormat.json:
        from calctl.output import to_json

        sys.stdout.write(to_json(doc) + "\n")
        return
    summary = _summary(doc, path)
    if doc.patch is not None and doc.result is None and doc.patch.diff:
        summary = doc.patch.diff + summary  # --diff
    assert doc.report is not None
    problems = render_lint(doc.report, path, fmt, files=files,
                           docs_url=settings.migrate.rules_docs_url)
    if fmt is OutputFormat.text:
        sys.stdout.write(problems + summary)
    else:
        sys.stdout.write(problems)
        sys.stderr.write(summary)
    sys.stdout.flush()


def _summary(doc: LintFix, path: Path) -> str:
    from calctl.cli._problem_formats import shown_path

    def where(item: FixItem) -> str:
        return f"{shown_path(path, item.path)}:{item.line}:{item.column}"

    lines = []
    result = doc.result
    made = doc.applied
    verb = "fixed" if made else "would fix" if result is None else "not fixed"
    for item in doc.fixed:
        lines.append(f"{verb} {item.code} {where(item)}: {item.title}")
    for item in doc.skipped:
        lines.append(f"not fixed {item.code} {where(item)}: {item.reason}")
    if result is not None:
        head = f"patch {result.patch_id}: {result.status.replace('_', ' ')}"
        if made:
            head += f" (undo with `calctl patch rollback {result.patch_id}`)"
        lines.append(head)
        lines.extend(f"  - {reason}" for reason in result.reasons)
        if not made and result.verification_output:
            lines.extend("  " + line for line in result.verification_output.splitlines())
    elif not doc.fixed and not doc.skipped:
        lines.append("nothing to fix")
    return "".join(line + "\n" for line in lines)
