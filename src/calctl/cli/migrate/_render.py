"""How ``migrate order`` and ``migrate lint`` print a plan or a report: text, JSON,
GitHub annotations or SARIF.

Renderers return the text instead of printing it, so a warm run can replay it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from calctl.cli.migrate._common import OutputFormat

if TYPE_CHECKING:
    from calctl.cli._styled import Line
    from calctl.documents import LintReport, MigrationPlan, Problem


def _problems_machine(problems: list[Problem], path: Path, fmt: OutputFormat) -> str | None:
    from calctl.cli._problem_formats import github_lines, sarif
    from calctl.output import to_json

    if fmt is OutputFormat.github:
        return "".join(line + "\n" for line in github_lines(path, problems))
    if fmt is OutputFormat.sarif:
        return to_json(sarif(path, problems)) + "\n"
    return None


def render_plan(plan: MigrationPlan, path: Path, fmt: OutputFormat, *, check: bool) -> str:
    if fmt is OutputFormat.json:
        from calctl.output import to_json

        return to_json(plan) + "\n"
    machine = _problems_machine(plan.problems, path, fmt)
    if machine is not None:
        return machine
    from calctl.cli._styled import render

    moved = [f for f in plan.files if f.moved_from is not None]
    out: list[Line] = []
    if not check:
        width = len(str(len(plan.files)))
        for f in plan.files:
            if f.moved_from is None:
                out.append([(f"{f.position + 1:>{width}}  {f.path}", "")])
            else:
                out.append([(f"{f.position + 1:>{width}}  {f.path}  "
                             f"(moved from {f.moved_from + 1}: {f.reason})", "bold yellow")])
    else:
        for f in moved:
            was = (f.moved_from or 0) + 1
            out.append([(f"move {f.path} from position {was} to {f.position + 1}: "
                         f"{f.reason}", "bold yellow")])
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
                   (f" ({len(plan.files)} files; {counts})", "")]
    elif moved:
        where = "" if check else ", as listed above"
        verdict = [("filename order is unsafe", "red"),
                   (f": {len(moved)} of {len(plan.files)} files must move{where} ({counts})",
                    "")]
    else:
        verdict = [("problems found", "red"), (f" ({len(plan.files)} files; {counts})", "")]
    out.append(verdict)
    return render(out)


def _counts(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = sum(p.severity == "warning" for p in problems)
    return (f"{errors} error{'s' if errors != 1 else ''}, "
            f"{warnings} warning{'s' if warnings != 1 else ''}")


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
    from calctl.cli._styled import render

    return render([*_problem_lines(report.problems),
                   [(f"{report.files} files checked: {_counts(report.problems)}", "")]])
