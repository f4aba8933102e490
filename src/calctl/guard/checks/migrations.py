"""``migrations``: the project's migrations are safe to run and the database agrees.

Unhealthy when ``migrate order --check`` would fail (a file needs a later-sorting one,
a cycle, an error-level problem), or — when the database URL is set — ``migrate
status`` finds a failed or changed file, or a pending one with ``pending = "fail"``.
Keys: ``dir`` (default ``[migrate] dir``), ``database_url_env`` (default ``[migrate]
database_url_env``; unset variable: the database part is skipped and said so),
``pending`` (``"warn"`` or ``"fail"``), ``apply`` (for the healer: apply the pending
files once healed; the check itself never changes a database).

The finding names the file (relative to the project root) and line, and says what
PostgreSQL would: a forward dependency on a relation is ``relation "users" does not
exist`` when the file runs in filename order, with the creating file in ``data`` —
what the ``rules`` provider's reorder fix reads, as from ``migrate apply``'s own
finding.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.config.checks import CheckSpec
from calctl.guard.model import CheckContext, Outcome
from calctl.output import plural

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.documents import MigrationPlan, Problem

# The PostgreSQL word for an object of each kind the analysis names.
_PG_KIND = {"table": "relation", "view": "relation", "materialized view": "relation",
            "sequence": "relation", "index": "relation", "function": "function",
            "procedure": "function", "schema": "schema", "type": "type", "enum": "type",
            "domain": "type", "column": "column"}
_OBJECT = re.compile(r'^(?P<kind>[a-z][a-z ]*?) "?(?P<name>[^"]+)"?')


async def check(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    from calctl.guard.checks._thread import in_thread  # asyncio: not for a lone check

    return await in_thread(lambda: check_sync(spec, ctx))


def check_sync(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    settings = ctx.settings
    directory = Path(str(spec.options["dir"]))
    if not directory.is_absolute():
        directory = settings.root / directory
    prefix = _prefix(settings.root, directory)
    if not directory.is_dir():
        return Outcome(False, f"migration directory {prefix or directory} does not exist",
                       hint="Set the check's dir (or [migrate] dir).")
    plan = _plan(settings, directory)
    problem = next((p for p in plan.problems if p.severity == "error"), None)
    if problem is not None or not plan.safe:
        return _order_outcome(plan, problem, prefix)
    variable = str(spec.options["database_url_env"])
    url = os.environ.get(variable, "")
    detail: dict[str, Any] = {"files": len(plan.files), "order": "safe"}
    if not url:
        return Outcome(True, detail={**detail, "database": f"not checked: {variable} is unset"})
    return _status_outcome(spec, settings, directory, url, prefix, detail)


def _plan(settings: Settings, directory: Path) -> MigrationPlan:
    from calctl.sql.cache import file_keys
    from calctl.sql.commands import Discovered, order_plan
    from calctl.sql.discovery import discover
    from calctl.state import StateDir

    migrate = settings.migrate
    files = discover(directory, globs=migrate.glob, exclude=migrate.exclude)
    cache = StateDir(settings.state_dir).ensure().cache
    return order_plan(Discovered(directory, settings, files, file_keys(files, migrate), cache))


def _order_outcome(plan: MigrationPlan, problem: Problem | None, prefix: str) -> Outcome:
    if problem is None:  # unsafe without an error-level problem: the first moved file
        moved = next(f for f in plan.files if f.moved_from is not None)
        return Outcome(False, f"{moved.path} must run later than its name sorts: "
                       f"{moved.reason}", file=prefix + moved.path,
                       data={"kind": "out-of-order", "path": moved.path,
                             "directory": prefix.rstrip("/")})
    data: dict[str, Any] = {"kind": "out-of-order" if problem.code == "CAL001" else "lint",
                            "path": problem.path, "rule": problem.code,
                            "rule_name": problem.name, "directory": prefix.rstrip("/")}
    error = f"{problem.path}: {problem.message} ({problem.code})"
    if problem.code == "CAL001":
        entry = next((f for f in plan.files if f.path == problem.path), None)
        order = [f.path for f in sorted(plan.files, key=lambda f: _natural(f.path))]
        later = set(order[order.index(problem.path) + 1:]) if problem.path in order else set()
        dependency = None
        if entry is not None:
            forward = [d for d in entry.depends_on if d.path in later]
            dependency = next((d for d in forward if d.line == problem.line),
                              forward[0] if forward else None)
        if dependency is not None:
            m = _OBJECT.match(dependency.object)
            kind = _PG_KIND.get(m.group("kind"), "relation") if m else "relation"
            name = m.group("name") if m else dependency.object
            error = (f'{kind} "{name}" does not exist when {problem.path} runs in filename '
                     f"order: {dependency.path}, which sorts after it, creates "
                     f"{dependency.object} ({problem.code})")
            data.update(object=dependency.object, creator=dependency.path)
    return Outcome(False, error, file=prefix + problem.path, line=problem.line,
                   hint=problem.hint, data=data)


def _status_outcome(spec: CheckSpec, settings: Settings, directory: Path, url: str,
                    prefix: str, detail: dict[str, Any]) -> Outcome:
    from calctl.errors import CalctlError
    from calctl.migrate.commands import Source, status_command

    try:
        result = status_command(settings, Source(directory), url)
    except CalctlError as exc:
        return Outcome(False, exc.message, hint=exc.hint)
    document = result.document
    files = getattr(document, "files", [])
    counts: dict[str, int] = {}
    for state in files:
        counts[state.state] = counts.get(state.state, 0) + 1
    detail = {**detail, "database": getattr(document, "database", ""), **counts}
    bad = next((s for s in files if s.state in ("failed", "changed")), None)
    if bad is not None:
        what = ("failed when it was applied" + (f": {bad.error}" if bad.error else "")
                if bad.state == "failed" else
                f"was changed after it was applied (recorded sha256 "
                f"{bad.recorded_checksum[:12]}…, now {bad.checksum[:12]}…)")
        return Outcome(False, f"{bad.path} {what}", file=prefix + bad.path,
                       data={"kind": "sql-error" if bad.state == "failed" else
                             "checksum-changed", "path": bad.path, "state": bad.state,
                             "database": detail["database"],
                             "directory": prefix.rstrip("/")}, detail=detail)
    pending = [s.path for s in files if s.state == "pending"]
    if pending and spec.options["pending"] == "fail":
        return Outcome(False, f"{plural(len(pending), 'migration')} not applied to "
                       f"{detail['database']}: {', '.join(pending[:5])}",
                       file=prefix + pending[0],
                       hint="Run `calctl migrate apply`, or set pending = \"warn\".",
                       data={"kind": "pending", "path": pending[0], "pending": pending,
                             "directory": prefix.rstrip("/")}, detail=detail)
    if pending:
        detail["warning"] = f"{len(pending)} pending"
    return Outcome(True, detail=detail)


def _prefix(root: Path, directory: Path) -> str:
    try:
        relative = directory.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(directory.resolve()) + "/"
    return "" if relative == "." else relative + "/"


def _natural(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]
