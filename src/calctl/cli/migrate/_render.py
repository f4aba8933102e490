"""How ``migrate order`` and ``migrate lint`` print a plan or a report: text, JSON,
GitHub annotations, SARIF, a GitLab Code Quality report or JUnit XML.

Renderers return the text instead of printing it, so a warm run can replay it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.cli.migrate._formats import OutputFormat
from calctl.output import plural

if TYPE_CHECKING:
    from calctl.cli._styled import Line
    from calctl.documents import LintReport, MigrationPlan, Move, Problem


def _problems_machine(problems: list[Problem], path: Path, fmt: OutputFormat,
                      moves: Sequence[Move] = (), *, files: Sequence[str] = (),
                      docs_url: str | None = None, suite: str = "") -> str | None:
    from calctl.output import to_json

    if fmt is OutputFormat.github:
        from calctl.cli._problem_formats import github_lines

        return "".join(line + "\n" for line in github_lines(path, problems, moves))
    if fmt is OutputFormat.sarif:
        from calctl.cli._problem_formats import DEFAULT_DOCS_URL, sarif

        return to_json(sarif(path, problems, moves, docs_url=DEFAULT_DOCS_URL
                             if docs_url is None else docs_url)) + "\n"
    if fmt is OutputFormat.gitlab:
        from calctl.cli.migrate._formats_gitlab import gitlab_issues

        return to_json(gitlab_issues(path, problems)) + "\n"
    if fmt is OutputFormat.junit:
        from calctl.cli.migrate._formats_junit import junit_xml

        return junit_xml(path, files, problems, suite=suite)
    return None


def render_plan(plan: MigrationPlan, path: Path, fmt: OutputFormat, *, check: bool,
                docs_url: str | None = None) -> str:
    if fmt is OutputFormat.json:
        from calctl.output import to_json

        return to_json(plan) + "\n"
    machine = _problems_machine(plan.problems, path, fmt, plan.moves,
                                files=[f.path for f in plan.files], docs_url=docs_url,
                                suite="calctl migrate order")
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
    out.extend(_problem_lines(plan.problems, path))
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


def _problem_lines(problems: list[Problem], path: Path) -> list[Line]:
    from calctl.cli._problem_formats import location

    lines: list[Line] = []
    for p in problems:
        where = location(path, p)
        lines.append([(f"{p.severity:<7}", _SEVERITY_STYLE[p.severity]),
                      (f" {p.code} {where}  {p.message}", "")])
        if p.hint:
            lines.append([("        ", ""), (f"hint: {p.hint}", "dim")])
    return lines


def render_lint(report: LintReport, path: Path, fmt: OutputFormat, *,
                files: Sequence[str] = (), docs_url: str | None = None) -> str:
    """``files``: the paths checked (the junit format lists each as a test case)."""
    if fmt is OutputFormat.json:
        from calctl.output import to_json

        return to_json(report) + "\n"
    machine = _problems_machine(report.problems, path, fmt, files=files, docs_url=docs_url,
                                suite="calctl migrate lint")
    if machine is not None:
        return machine
    if _quiet() and not report.problems:
        return ""  # -q: no problem, nothing to report
    from calctl.cli._styled import render

    return render([*_problem_lines(report.problems, path),
                   [(f"{plural(report.files, 'file')} checked: {_counts(report.problems)}",
                     "")]])


def render_problems(problems: list[Problem], path: Path, fmt: OutputFormat, *, scope: str,
                    docs_url: str | None = None) -> str:
    """Problems alone in a machine format (the files calctl could not read)."""
    machine = _problems_machine(problems, path, fmt, files=[p.path for p in problems],
                                docs_url=docs_url, suite=f"calctl migrate {scope}")
    assert machine is not None, fmt
    return machine
