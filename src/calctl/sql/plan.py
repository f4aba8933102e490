"""The migration plan: the dependency-safe order of a directory's files.

``analyse_directory`` reads and analyses every file (through the parse cache,
in worker processes when many files are new), resolves names across files and
orders them; ``build_plan`` turns that into the ``migration-plan`` document that
``migrate order`` prints and ``migrate apply/verify`` execute, and
``lint_directory`` into the ``migration-lint`` document.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.documents import Dependency, LintReport, MigrationPlan, PlanFile, Problem
from calctl.sql.discovery import MigrationFile, discover

# The analysis modules load only when something must be analysed: a warm run whose
# result is cached needs none of them.
if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql.facts import FileAnalysis
    from calctl.sql.graph import Ordering
    from calctl.sql.names import Resolution

@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the analysis builds hundreds of thousands of
    small tuples and no cycles, and collections triggered by them cost up to half the
    run on large directories. Reference counting still frees everything."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# Below this many files to parse, worker processes cost more than they save.
PARALLEL_THRESHOLD = 400


@dataclass(frozen=True)
class DirectoryAnalysis:
    directory: Path
    files: list[MigrationFile]            # filename order
    analyses: list[FileAnalysis]
    resolution: Resolution
    ordering: Ordering
    default_schema: str


def _analyse_one(item: tuple[str, str, tuple[str, ...], dict[str, str]]) -> FileAnalysis:
    from calctl.sql.analyse import analyse

    text, path, search_path, defines = item
    return analyse(text, path=path, search_path=search_path, defines=defines)


def _analyse_plain(item: tuple[str, str, tuple[str, ...], dict[str, str]]) -> bytes:
    """In a worker: the analysis as marshal bytes (much cheaper to send than pickles)."""
    import marshal

    from calctl.sql.facts import to_plain

    return marshal.dumps(to_plain(_analyse_one(item)))


def _analyse_many(items: list[tuple[str, str, tuple[str, ...], dict[str, str]]],
                  ) -> list[FileAnalysis]:
    workers = min(os.cpu_count() or 1, 8)
    if len(items) < PARALLEL_THRESHOLD or workers < 2:
        return [_analyse_one(item) for item in items]
    import marshal
    import multiprocessing

    from calctl.sql.facts import from_plain

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return [_analyse_one(item) for item in items]
    import pglast.parser  # noqa: F401  (loaded once, before forking)

    chunk = max(16, len(items) // (workers * 4))
    try:
        with context.Pool(workers) as pool:
            blobs = pool.map(_analyse_plain, items, chunksize=chunk)
    except OSError:
        return [_analyse_one(item) for item in items]
    return [from_plain(marshal.loads(blob)) for blob in blobs]


def _keys(files: list[MigrationFile], settings: MigrateSettings) -> list[bytes]:
    from calctl.sql.cache import file_keys

    return file_keys(files, settings)


def analyse_directory(directory: Path, settings: MigrateSettings, *,
                      cache_dir: Path | None = None,
                      files: list[MigrationFile] | None = None,
                      keys: list[bytes] | None = None) -> DirectoryAnalysis:
    """Read, analyse (cached), resolve and order every migration of ``directory``."""
    from calctl.sql.cache import ParseCache
    from calctl.sql.graph import stable_order
    from calctl.sql.names import resolve

    if files is None:
        files = discover(directory, globs=settings.glob, exclude=settings.exclude)
    search_path = tuple(settings.search_path) or ("public",)
    defines = dict(settings.defines)
    cache = ParseCache(cache_dir)
    if keys is None:
        keys = _keys(files, settings)
    analyses: list[FileAnalysis | None] = [cache.get(k) for k in keys]
    todo = [i for i, a in enumerate(analyses) if a is None]
    if todo:
        fresh = _analyse_many([(files[i].text, files[i].path, search_path, defines)
                               for i in todo])
        for i, analysis in zip(todo, fresh, strict=True):
            analyses[i] = analysis
            cache.put(keys[i], analysis)
        cache.save()
    done = [a for a in analyses if a is not None]
    resolution = resolve(done, known=settings.known_objects, default_schema=search_path[0])
    ordering = stable_order(len(files), ((e.provider, e.user) for e in resolution.edges))
    return DirectoryAnalysis(directory, files, done, resolution, ordering, search_path[0])


def _silenced(problem: Problem, index: dict[str, FileAnalysis]) -> bool:
    analysis = index.get(problem.path)
    if analysis is None:
        return False
    if problem.code in analysis.file_ignores:
        return True
    if problem.line is None:
        return False
    # a statement's span starts after the previous one, so it holds the comments above it
    return any(span.first <= problem.line <= span.last and problem.code in span.ignores
               for span in analysis.spans)


def problems_of(result: DirectoryAnalysis, scope: str) -> list[Problem]:
    """Every problem of the rules in ``scope``, ignore comments applied, in file order."""
    from calctl.sql.rules import RuleContext, rules_for

    ctx = RuleContext(result.files, result.analyses, result.resolution, result.ordering,
                      result.default_schema)
    index = {f.path: a for f, a in zip(result.files, result.analyses, strict=True)}
    position = {f.path: i for i, f in enumerate(result.files)}
    problems = [p for rule in rules_for(scope) for p in rule.check(ctx)
                if not _silenced(p, index)]
    problems.sort(key=lambda p: (position.get(p.path, -1), p.line or 0, p.code))
    return problems


def plan_from(result: DirectoryAnalysis, problems: Sequence[Problem]) -> MigrationPlan:
    files = result.files
    needs: dict[int, list[Dependency]] = {}
    for edge in result.resolution.edges:
        if edge.kind != "uses":
            continue
        needs.setdefault(edge.user, []).append(
            Dependency(path=files[edge.provider].path, object=edge.object, line=edge.line))
    forward: dict[int, list[int]] = {}
    waits: dict[int, str] = {}  # a file that drops or renames what a later file still uses
    for edge in result.resolution.edges:
        if edge.forward and edge.kind == "uses":
            forward.setdefault(edge.user, []).append(edge.provider)
        elif edge.forward and edge.kind == "drops":
            waits.setdefault(edge.user, f"drops or renames {edge.object}, which "
                                        f"{files[edge.provider].path} still uses")
    plan_files: list[PlanFile] = []
    highest = -1
    new_position = {old: new for new, old in enumerate(result.ordering.order)}
    for new, old in enumerate(result.ordering.order):
        moved = old < highest
        highest = max(highest, old)
        reason = ""
        if moved:
            after = max(forward.get(old, []), default=-1)
            if after >= 0:
                reason = f"needs {_what(result, old, after)} from {files[after].path}"
            elif old in waits:
                reason = waits[old]
            else:
                deps = [e.provider for e in result.resolution.edges
                        if e.user == old and new_position[e.provider] < new]
                later = max(deps, key=lambda d: new_position[d], default=-1)
                if later >= 0:
                    reason = f"needs {files[later].path}, which moved"
        analysis = result.analyses[old]
        plan_files.append(PlanFile(
            path=files[old].path,
            position=new,
            moved_from=old if moved else None,
            depends_on=sorted(needs.get(old, []), key=lambda d: (d.line or 0, d.path)),
            approximate=analysis.approximate,
            transaction=analysis.transaction,
            reason=reason,
        ))
    unsafe = any(e.forward and e.kind in ("uses", "drops") for e in result.resolution.edges)
    safe = not (unsafe or result.ordering.cycles
                or any(p.severity == "error" for p in problems))
    return MigrationPlan(directory=str(result.directory), files=plan_files,
                         problems=list(problems), safe=safe)


def _what(result: DirectoryAnalysis, user: int, provider: int) -> str:
    for edge in result.resolution.edges:
        if edge.user == user and edge.provider == provider and edge.kind == "uses":
            return f"{edge.object} (line {edge.line})"
    return "an object"


def build_plan(directory: Path, settings: MigrateSettings, *,
               cache_dir: Path | None = None,
               files: list[MigrationFile] | None = None,
               keys: list[bytes] | None = None) -> tuple[MigrationPlan, list[MigrationFile]]:
    """Plan ``directory``: returns the plan document and the files in execution order.

    ``keys`` (from :func:`calctl.sql.cache.file_keys`) saves hashing the files again.
    """
    from calctl.sql.cache import load_result, result_key, store_result

    if files is None:
        files = discover(directory, globs=settings.glob, exclude=settings.exclude)
    if keys is None:
        keys = _keys(files, settings)
    rkey = result_key("order", str(directory), [f.path for f in files], keys,
                      tuple(settings.known_objects))
    cached = load_result(cache_dir, rkey)
    if isinstance(cached, MigrationPlan) and len(cached.files) == len(files):
        by_path = {f.path: f for f in files}
        return cached, [by_path[f.path] for f in cached.files]
    with _no_gc():
        result = analyse_directory(directory, settings, cache_dir=cache_dir, files=files,
                                   keys=keys)
        plan = plan_from(result, problems_of(result, "order"))
    store_result(cache_dir, rkey, plan)
    return plan, [result.files[i] for i in result.ordering.order]


def lint_directory(directory: Path, settings: MigrateSettings, *,
                   cache_dir: Path | None = None,
                   files: list[MigrationFile] | None = None,
                   keys: list[bytes] | None = None) -> LintReport:
    """Every problem of every rule, for ``migrate lint``."""
    from calctl.sql.cache import load_result, result_key, store_result

    if files is None:
        files = discover(directory, globs=settings.glob, exclude=settings.exclude)
    if keys is None:
        keys = _keys(files, settings)
    rkey = result_key("lint", str(directory), [f.path for f in files], keys,
                      tuple(settings.known_objects))
    cached = load_result(cache_dir, rkey)
    if isinstance(cached, LintReport):
        return cached
    with _no_gc():
        result = analyse_directory(directory, settings, cache_dir=cache_dir, files=files,
                                   keys=keys)
        problems = problems_of(result, "lint")
    report = LintReport(directory=str(directory), files=len(result.files), problems=problems)
    store_result(cache_dir, rkey, report)
    return report
