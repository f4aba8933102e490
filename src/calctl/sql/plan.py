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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.documents import Dependency, LintReport, MigrationPlan, PlanFile, Problem
from calctl.sql.discovery import MigrationFile, discover
from calctl.sql.early import PARALLEL_THRESHOLD

# The analysis modules load only when something must be analysed: a warm run whose
# result is cached needs none of them.
if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql import early
    from calctl.sql.cache import ParseCache
    from calctl.sql.facts import FileAnalysis
    from calctl.sql.graph import Ordering
    from calctl.sql.names import Resolution

@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: the analysis builds hundreds of thousands of
    small tuples and no cycles, and collections triggered by them cost up to half the
    run on large directories. Reference counting still frees everything. Keep it paused
    while the result is stored and rendered: the first collection after it resumes would
    walk every object the analysis left behind."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class DirectoryAnalysis:
    directory: Path
    files: list[MigrationFile]            # filename order
    analyses: list[FileAnalysis]
    resolution: Resolution
    ordering: Ordering
    default_schema: str
    # waits for worker processes still writing the parse cache (see analyse_directory)
    finish: Callable[[], None] = field(default=lambda: None, compare=False)


def _analyse_one(item: tuple[str, str, tuple[str, ...], dict[str, str]]) -> FileAnalysis:
    from calctl.sql.analyse import analyse

    text, path, search_path, defines = item
    return analyse(text, path=path, search_path=search_path, defines=defines)


def _analyse_many(items: list[tuple[str, str, tuple[str, ...], dict[str, str]]],
                  keys: list[bytes], cache: ParseCache) -> tuple[list[FileAnalysis], _Reap]:
    """Analyse ``items`` (in order) and add them to ``cache``, saving it.

    On several cores the work is split by cache shard: the parent forks one child per
    extra core, each process analyses the files whose keys fall in its shards and writes
    those shards itself, and only the children's results travel back (marshal, through
    a pipe — no pool to start, nothing pickled, no idle parent). Returns the analyses
    and a function that waits for the children (they may still be writing the cache).
    """
    from calctl.sql.cache import SHARDS, shard_of
    from calctl.sql.early import usable_cpus

    workers = min(usable_cpus(), SHARDS)
    if len(items) < PARALLEL_THRESHOLD or workers < 2 or not hasattr(os, "fork"):
        serial = [_analyse_one(item) for item in items]
        for key, analysis in zip(keys, serial, strict=True):
            cache.put(key, analysis)
        cache.save()
        return serial, _no_children
    import calctl.sql.analyse  # noqa: F401  (loaded once, before forking)
    from calctl.sql.pgparser import parser

    parser()  # likewise

    owner = [shard_of(key) % workers for key in keys]
    shares = [[i for i, o in enumerate(owner) if o == p] for p in range(workers)]
    shards = [[s for s in range(SHARDS) if s % workers == p] for p in range(workers)]
    children = [_fork_share([items[i] for i in shares[p]], [keys[i] for i in shares[p]],
                            cache, shards[p]) for p in range(1, workers)]
    out: list[FileAnalysis | None] = [None] * len(items)
    mine = list(shares[0])
    _analyse_into(out, mine, items, keys, cache)
    for p, child in enumerate(children, start=1):
        got = _collect(child, len(shares[p])) if child is not None else None
        if got is None:  # that child failed: its share is done here
            _analyse_into(out, shares[p], items, keys, cache)
            mine.extend(shares[p])
            continue
        for i, analysis in zip(shares[p], got, strict=True):
            out[i] = analysis
    cache.save({shard_of(keys[i]) for i in mine})
    pids = [child[0] for child in children if child is not None]
    return [a for a in out if a is not None], lambda: _reap(pids)


_Reap = Callable[[], None]


def _analyse_into(out: list[FileAnalysis | None], indexes: list[int],
                  items: list[tuple[str, str, tuple[str, ...], dict[str, str]]],
                  keys: list[bytes], cache: ParseCache) -> None:
    for i in indexes:
        out[i] = analysis = _analyse_one(items[i])
        cache.put(keys[i], analysis)


def _analyse_beside(helper: early.Child,
                    items: list[tuple[str, str, tuple[str, ...], dict[str, str]]],
                    keys: list[bytes], cache: ParseCache, cache_dir: Path | None,
                    ) -> tuple[list[FileAnalysis], _Reap]:
    """Analyse the files the parse cache lacks together with the early child: this
    process from the back of their common list, the child from the front, until they
    meet (:class:`calctl.sql.early.Progress`); then take the child's results by key.
    Anything it did not send (it guessed other settings or files, or failed) is
    analysed here. ``keys`` are those the parse cache lacks."""
    from calctl.sql.early import common_order
    from calctl.sql.facts import from_plain, to_plain

    order = common_order(keys)
    progress = helper.progress
    out: list[FileAnalysis | None] = [None] * len(items)
    pairs = []
    met = False
    for item in range(len(order) - 1, -1, -1):
        if not progress.parent_takes(item):
            met = True
            break
        i = order[item]
        out[i] = analysis = _analyse_one(items[i])
        pairs.append((keys[i], to_plain(analysis)))
    import marshal

    if met:
        mine_packed = marshal.dumps(pairs)  # before waiting: the child may still be working
        got = helper.collect()
    else:  # this process did everything (the child was slow or lost): no waiting
        helper.cancel()
        mine_packed, got = b"", {}
    # the child's guess matched this command's files and settings (it sent nothing else)
    matched = bool(got) and set(got) <= set(keys)
    taken: list[tuple[bytes, tuple[Any, ...]]] = []   # the child's analyses used here
    extra: list[tuple[bytes, tuple[Any, ...]]] = []   # what neither process had done
    for i, done in enumerate(out):
        if done is not None:
            continue
        theirs = got.get(keys[i])
        if theirs is not None:
            try:
                out[i] = from_plain(theirs)
            except (TypeError, ValueError):  # not an analysis: never expected
                theirs, matched = None, False
            else:
                taken.append((keys[i], theirs))
        if theirs is None:  # the item both processes left to the other where they met
            out[i] = analysis = _analyse_one(items[i])
            extra.append((keys[i], to_plain(analysis)))
    if matched:
        # the child writes the whole cache while this process resolves and prints
        if extra:
            mine_packed = marshal.dumps(pairs + extra)
        helper.save_to(str(cache_dir) if cache_dir is not None else None, mine_packed)
    else:
        helper.wait()  # told nothing, it writes nothing: the cache is written here
        for key, plain in [*pairs, *taken, *extra]:
            cache.put(key, plain)
        cache.save()
    return [a for a in out if a is not None], helper.wait


def _no_children() -> None:
    return None


def _reap(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


def _fork_share(share: list[tuple[str, str, tuple[str, ...], dict[str, str]]],
                keys: list[bytes], cache: ParseCache, shards: list[int],
                ) -> tuple[int, int] | None:
    """Fork a child that analyses ``share``, sends the results (marshal) through a pipe,
    then saves its cache ``shards``: (pid, read end), or None when no child started."""
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        status = 1
        try:
            import marshal

            from calctl.sql.facts import to_plain

            os.close(read_end)
            plain = [to_plain(_analyse_one(item)) for item in share]
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(marshal.dumps(plain))
            for key, analysis in zip(keys, plain, strict=True):
                cache.put(key, analysis)
            cache.save(shards)
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    return pid, read_end


def _collect(child: tuple[int, int], count: int) -> list[FileAnalysis] | None:
    """A child's analyses, or None when it failed."""
    import marshal

    from calctl.sql.facts import from_plain

    _, read_end = child
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    try:
        analyses = [from_plain(plain) for plain in marshal.loads(data)]
    except (EOFError, ValueError, TypeError):
        return None
    return analyses if len(analyses) == count else None


def _keys(files: list[MigrationFile], settings: MigrateSettings) -> list[bytes]:
    from calctl.sql.cache import file_keys

    return file_keys(files, settings)


def analyse_directory(directory: Path, settings: MigrateSettings, *,
                      cache_dir: Path | None = None,
                      files: list[MigrationFile] | None = None,
                      keys: list[bytes] | None = None,
                      wait: bool = True) -> DirectoryAnalysis:
    """Read, analyse (cached), resolve and order every migration of ``directory``.

    Worker processes may still be writing the parse cache when the analysis is done;
    ``wait=False`` leaves waiting for them to the caller (``result.finish()``), so they
    write while it plans and prints."""
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
    reap = _no_children
    from calctl.sql import early

    helper = early.claim()  # the analysis the console script started before parsing
    if todo:
        items = [(files[i].text, files[i].path, search_path, defines) for i in todo]
        todo_keys = [keys[i] for i in todo]
        if helper is not None and len(todo) >= PARALLEL_THRESHOLD:
            fresh, reap = _analyse_beside(helper, items, todo_keys, cache, cache_dir)
        else:
            if helper is not None:
                helper.cancel()
            fresh, reap = _analyse_many(items, todo_keys, cache)
        for i, analysis in zip(todo, fresh, strict=True):
            analyses[i] = analysis
    elif helper is not None:
        helper.cancel()
    done = [a for a in analyses if a is not None]
    resolution = resolve(done, known=settings.known_objects, default_schema=search_path[0])
    ordering = stable_order(len(files), ((e.provider, e.user) for e in resolution.edges))
    if wait:
        reap()
        reap = _no_children
    return DirectoryAnalysis(directory, files, done, resolution, ordering, search_path[0],
                             reap)


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
    forward: dict[int, list[int]] = {}
    waits: dict[int, str] = {}  # a file that drops or renames what a later file still uses
    unsafe = False  # a forward use, or a drop before a use
    for provider, user, what, line, _, ahead, kind, _ in result.resolution.edges:
        if kind == "uses":
            dependency = Dependency(path=files[provider].path, object=what, line=line)
            listed = needs.get(user)
            if listed is None:
                needs[user] = [dependency]
            else:
                listed.append(dependency)
            if ahead:
                unsafe = True
                forward.setdefault(user, []).append(provider)
        elif ahead and kind == "drops":
            unsafe = True
            if user not in waits:
                waits[user] = (f"drops or renames {what}, which {files[provider].path} "
                               "still uses")
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
               keys: list[bytes] | None = None,
               remember: bool = True,
               retain: list[object] | None = None,
               ) -> tuple[MigrationPlan, list[MigrationFile]]:
    """Plan ``directory``: returns the plan document and the files in execution order.

    ``keys`` (from :func:`calctl.sql.cache.file_keys`) saves hashing the files again.
    ``remember=False`` does not store the plan for later callers: ``migrate order``
    stores what it printed instead, and storing the plan too cost ~10 ms per cold run
    (the next ``migrate apply`` then plans from the parse cache and stores it).
    ``retain``: a list the caller keeps until its process ends; the directory's analysis
    is added to it rather than freed on return (see :func:`calctl.cli.skip_teardown`).
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
        # the key covers every path; a plan naming others (or one twice) is not this
        # directory's: a miss
        if {f.path for f in cached.files} == by_path.keys():
            return cached, [by_path[f.path] for f in cached.files]
    with no_gc():
        result = analyse_directory(directory, settings, cache_dir=cache_dir, files=files,
                                   keys=keys, wait=False)
        plan = plan_from(result, problems_of(result, "order"))
        if remember:
            store_result(cache_dir, rkey, plan)
        result.finish()
        if retain is not None:
            retain.append(result)
    return plan, [result.files[i] for i in result.ordering.order]


def lint_directory(directory: Path, settings: MigrateSettings, *,
                   cache_dir: Path | None = None,
                   files: list[MigrationFile] | None = None,
                   keys: list[bytes] | None = None,
                   retain: list[object] | None = None) -> LintReport:
    """Every problem of every rule, for ``migrate lint`` (``retain``: see
    :func:`build_plan`)."""
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
    with no_gc():
        result = analyse_directory(directory, settings, cache_dir=cache_dir, files=files,
                                   keys=keys, wait=False)
        problems = problems_of(result, "lint")
        report = LintReport(directory=str(directory), files=len(result.files),
                            problems=problems)
        store_result(cache_dir, rkey, report)
        result.finish()
        if retain is not None:
            retain.append(result)
    return report
