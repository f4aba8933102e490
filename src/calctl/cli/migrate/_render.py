"""How ``migrate order`` and ``migrate lint`` print a plan or a report: text, JSON,
GitHub annotations or SARIF.

Renderers return the text instead of printing it, so a warm run can replay it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.cli.migrate._common import OutputFormat
from calctl.output import plural

if TYPE_CHECKING:
    from calctl.cli._styled import Line
    from calctl.documents import LintReport, MigrationPlan, Move, Problem


def _problems_machine(problems: list[Problem], path: Path, fmt: OutputFormat,
                      moves: Sequence[Move] = ()) -> str | None:
    from calctl.cli._problem_formats import github_lines, sarif
    from calctl.output import to_json

    if fmt is OutputFormat.github:
        return "".join(line + "\n" for line in github_lines(path, problems, moves))
    if fmt is OutputFormat.sarif:
        return to_json(sarif(path, problems, moves)) + "\n"
    return None


def render_plan(plan: MigrationPlan, path: Path, fmt: OutputFormat, *, check: bool) -> str:
    if fmt is OutputFormat.json:
        from calctl.output import to_json

        return to_json(plan) + "\n"
    machine = _problems_machine(plan.problems, path, fmt, plan.moves)
    if machine is not None:
        return machine
    if _quiet() and plan.safe and not plan.problems and not plan.moves:
        return ""  # -q: a safe order without a problem is nothing to report
    from calctl.cli._styled import render

    moved = plan.moves
    out: list[Line] = []
    if not check:
        width = len(str(len(plan.files)))
        after = {m.path: m.after for m in moved}
        for f in plan.files:
            if f.path not in after:
                out.append([(f"{f.position + 1:>{width}}  {f.path}", "")])
            else:
                out.append([(f"{f.position + 1:>{width}}  {f.path}  "
                             f"(rename to sort after {after[f.path]}: {f.reason})",
                             "bold yellow")])
    else:
        from calctl.cli._problem_formats import move_text

        for m in moved:
            out.append([(move_text(m), "bold yellow")])
    out.extend(_problem_lines(plan.problems))
    if plan.order and plan.order != "natural":
        from calctl.sql.layout import DESCRIPTIONS

        # "filename order" is the tool's: say which, as the plan's `order` does
        out.append([(f"filename order: {plan.order} "
                     f"({DESCRIPTIONS.get(plan.order, plan.order)})", "dim")])
    counts = _counts(plan.problems)
    verdict: Line
    if plan.safe:
        verdict = [("filename order is safe", "green"),
                   (f" ({plural(len(plan.files), 'file')}; {counts})", "")]
    elif moved:
        where = "" if check else ", as listed above"
        verdict = [("filename order is unsafe", "red"),
                   (f": {len(moved)} of {len(plan.files)} files must move{where} ({counts})",
                    "")]
    else:
        verdict = [("problems found", "red"),
                   (f" ({plural(len(plan.files), 'file')}; {counts})", "")]
    out.append(verdict)
    return render(out)


def _quiet() -> bool:
    """``-q``: text output only when there is something to report (a document, an
    annotation or SARIF file asked for is always written)."""
    from calctl.output import quiet

    return quiet()


def _counts(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _problem_lines(problems: list[Problem]) -> list[Line]:
    lines: list[Line] = []
    for p in problems:
        where = f"{p.path}:{p.line}" if p.line else p.path
        lines.append([(f"{p.severity:<7}", _SEVERITY_STYLE[p.severity]),
                      (f" {p.code} {where}  {p.message}", "")])
        if p.hint:
            lines.append([("        ", ""), (f"hint: {p.hint}", "dim")])
    return lines


def render_lint(report: LintReport, path: Path, fmt: OutputFormat) -> str:
    if fmt is OutputFormat.json:
        from calctl.output import to_json

        return to_json(report) + "\n"
    machine = _problems_machine(report.problems, path, fmt)
    if machine is not None:
        return machine
    if _quiet() and not report.problems:
        return ""  # -q: no problem, nothing to report
    from calctl.cli._styled import render

    return render([*_problem_lines(report.problems),
                   [(f"{plural(report.files, 'file')} checked: {_counts(report.problems)}", "")]])
