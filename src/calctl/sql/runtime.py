"""How a directory's analysis runs: the parse cache, and every way of running what it lacks.

:func:`analyse_files` is the one door: given the inputs the cache lacks, it analyses them
in this process (``CALCTL_SERIAL=1``, few files, or no idle core), beside the early child
the console script forked before the command line was parsed (:mod:`calctl.sql.early`),
or in processes forked here, one per core, each writing its own cache shards. Whatever
the strategy, the result is the same list of :class:`FileAnalysis` in input order, and
the cache holds them all when the returned ``finish`` has run.

:func:`build_plan` and :func:`lint_directory` put the caches around the pure planning of
:mod:`calctl.sql.plan`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.documents import LintReport, MigrationPlan
from calctl.sql.discovery import MigrationFile, discover
from calctl.sql.early import PARALLEL_THRESHOLD

if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql import early
    from calctl.sql.cache import ParseCache
    from calctl.sql.facts import AnalysisInput, FileAnalysis
    from calctl.sql.plan import DirectoryAnalysis

Finish = Callable[[], None]


def _no_children() -> None:
    return None


def analyse_files(jobs: list[AnalysisInput], keys: list[bytes], cache: ParseCache,
                  ) -> tuple[list[FileAnalysis], Finish]:
    """Analyse ``jobs`` (their cache ``keys`` beside them; none of them cached) and add
    them to ``cache``. Returns the analyses and a function that waits for any process
    still writing the cache. An early child nobody needs is stopped here."""
    from calctl.sql import early

    helper = early.claim()  # the analysis the console script started before parsing
    if helper is not None and len(jobs) >= PARALLEL_THRESHOLD:
        return _analyse_beside(helper, jobs, keys, cache)
    if helper is not None:
        helper.cancel()
    if not jobs:
        return [], _no_children
    return _analyse_many(jobs, keys, cache)


def _analyse_many(jobs: list[AnalysisInput], keys: list[bytes], cache: ParseCache,
                  ) -> tuple[list[FileAnalysis], Finish]:
    """On several cores the work is split by cache shard: the parent forks one child per
    extra core, each process analyses the files whose keys fall in its shards and writes
    those shards itself, and only the children's results travel back (marshal, through
    a pipe — no pool to start, nothing pickled, no idle parent)."""
    from calctl.sql.analyse import analyse
    from calctl.sql.cache import SHARDS, shard_of
    from calctl.sql.early import parallel_cpus

    workers = min(parallel_cpus(), SHARDS)
    if len(jobs) < PARALLEL_THRESHOLD or workers < 2 or not hasattr(os, "fork"):
        done = list(map(analyse, jobs))
        for key, analysis in zip(keys, done, strict=True):
            cache.put(key, analysis)
        cache.save()
        return done, _no_children
    from calctl.sql.pgparser import parser

    parser()  # loaded once, before forking

    owner = [shard_of(key) % workers for key in keys]
    shares = [[i for i, o in enumerate(owner) if o == p] for p in range(workers)]
    shards = [[s for s in range(SHARDS) if s % workers == p] for p in range(workers)]
    children = [_fork_share([jobs[i] for i in shares[p]], [keys[i] for i in shares[p]],
                            cache, shards[p]) for p in range(1, workers)]
    out: list[FileAnalysis | None] = [None] * len(jobs)
    mine = list(shares[0])
    _analyse_into(out, mine, jobs, keys, cache)
    for p, child in enumerate(children, start=1):
        got = _collect(child, len(shares[p])) if child is not None else None
        if got is None:  # that child failed: its share is done here
            _analyse_into(out, shares[p], jobs, keys, cache)
            mine.extend(shares[p])
            continue
        for i, analysis in zip(shares[p], got, strict=True):
            out[i] = analysis
    cache.save({shard_of(keys[i]) for i in mine})
    pids = [child[0] for child in children if child is not None]
    return [a for a in out if a is not None], lambda: _reap(pids)


def _analyse_into(out: list[FileAnalysis | None], indexes: list[int],
                  jobs: list[AnalysisInput], keys: list[bytes], cache: ParseCache) -> None:
    from calctl.sql.analyse import analyse

    for i in indexes:
        out[i] = analysis = analyse(jobs[i])
        cache.put(keys[i], analysis)


def _analyse_beside(helper: early.Child, jobs: list[AnalysisInput], keys: list[bytes],
                    cache: ParseCache) -> tuple[list[FileAnalysis], Finish]:
    """Analyse the files the parse cache lacks together with the early child: this
    process from the back of their common list, the child from the front, until they
    meet (:class:`calctl.sql.early.Progress`); then take the child's results by key.
    Anything it did not send (it guessed other settings or files, or failed) is
    analysed here."""
    from calctl import lifecycle
    from calctl.sql.analyse import analyse
    from calctl.sql.early import common_order
    from calctl.sql.facts import to_plain
    from calctl.sql.pipes import Packed

    order = common_order(keys)
    progress = helper.progress
    out: list[FileAnalysis | None] = [None] * len(jobs)
    mine = Packed()  # for the child, which writes the cache
    met = False
    for item in range(len(order) - 1, -1, -1):
        if not progress.parent_takes(item):
            met = True
            break
        i = order[item]
        out[i] = analysis = analyse(jobs[i])
        mine.add(keys[i], to_plain(analysis))
        helper.take()  # the child's results that have arrived, decoded meanwhile
    if met:
        mine.packed()  # before waiting: the child may still be working
        got = helper.collect()
    else:  # this process did everything (the child was slow or lost): no waiting
        helper.cancel()
        got = {}
    # the child's guess matched this command's files and settings (it sent nothing else)
    matched = bool(got) and set(got) <= set(keys)
    # what neither process did (the item both left to the other where they met, or a
    # file the child did not have): analysed here before the child is told to write
    for i, done in enumerate(out):
        if done is None and keys[i] not in got:
            out[i] = analysis = analyse(jobs[i])
            mine.add(keys[i], to_plain(analysis))
    if matched:
        # the child writes the whole cache while this process resolves and prints
        helper.save_to(str(cache.directory) if cache.directory is not None else None,
                       mine.packed())
    for i, done in enumerate(out):
        if done is None:
            out[i] = got[keys[i]]
    analyses = [a for a in out if a is not None]
    lifecycle.hold(mine)  # the plain copies: freeing them on return costs ~9 ms
    if not matched:
        # told nothing, the child writes nothing: the cache is written here, after it
        # ends
        helper.wait()
        for key, analysis in zip(keys, analyses, strict=True):
            cache.put(key, analysis)
        cache.save()
    return analyses, helper.wait


def _reap(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)


def _fork_share(share: list[AnalysisInput], keys: list[bytes], cache: ParseCache,
                shards: list[int]) -> tuple[int, int] | None:
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

            from calctl.sql.analyse import analyse
            from calctl.sql.facts import to_plain

            os.close(read_end)
            plains = [to_plain(analyse(job)) for job in share]
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(marshal.dumps(plains))
            for key, plain in zip(keys, plains, strict=True):
                cache.put(key, plain)  # (written as is)
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


# ---------------------------------------------------------------- a directory


def analyse_directory(directory: Path, settings: MigrateSettings, *,
                      cache_dir: Path | None = None,
                      files: list[MigrationFile] | None = None,
                      keys: list[bytes] | None = None,
                      wait: bool = True) -> DirectoryAnalysis:
    """Read, analyse (cached), resolve and order every migration of ``directory``.

    Worker processes may still be writing the parse cache when the analysis is done;
    ``wait=False`` leaves waiting for them to the caller (``result.finish()``), so they
    write while it plans and prints."""
    from calctl.sql.cache import ParseCache, file_inputs
    from calctl.sql.facts import AnalysisInput
    from calctl.sql.plan import order_analyses

    if files is None:
        files = discover(directory, globs=settings.glob, exclude=settings.exclude,
                         sort=settings.sort)
    inputs = file_inputs(files, settings)
    if keys is None:
        keys = list(map(AnalysisInput.key, inputs))
    cache = ParseCache(cache_dir)
    analyses: list[FileAnalysis | None] = [cache.get(k) for k in keys]
    todo = [i for i, a in enumerate(analyses) if a is None]
    fresh, finish = analyse_files([inputs[i] for i in todo], [keys[i] for i in todo], cache)
    for i, analysis in zip(todo, fresh, strict=True):
        analyses[i] = analysis
    result = order_analyses(directory, files, [a for a in analyses if a is not None],
                            settings, finish)
    if wait:
        finish()
        from dataclasses import replace

        result = replace(result, finish=_no_children)
    return result


def build_plan(directory: Path, settings: MigrateSettings, *,
               cache_dir: Path | None = None,
               files: list[MigrationFile] | None = None,
               keys: list[bytes] | None = None,
               remember: bool = True,
               ) -> tuple[MigrationPlan, list[MigrationFile]]:
    """Plan ``directory``: returns the plan document and the files in execution order.

    ``keys`` (from :func:`calctl.sql.cache.file_keys`) saves hashing the files again.
    ``remember=False`` does not store the plan for later callers: ``migrate order``
    stores what it printed instead, and storing the plan too cost ~10 ms per cold run
    (the next ``migrate apply`` then plans from the parse cache and stores it).
    """
    from calctl import lifecycle
    from calctl.sql.cache import store_result

    files, keys, rkey, cached, order = _stored("order", directory, settings, cache_dir, files,
                                               keys)
    if isinstance(cached, MigrationPlan) and len(cached.files) == len(files):
        by_path = {f.path: f for f in files}
        # the key covers every path; a plan naming others (or one twice) is not this
        # directory's: a miss
        if {f.path for f in cached.files} == by_path.keys():
            return cached, [by_path[f.path] for f in cached.files]
    from calctl.sql.plan import plan_from, problems_of  # (before the analysis: see plan)

    with lifecycle.paused_gc():
        result = analyse_directory(directory, settings, cache_dir=cache_dir, files=files,
                                   keys=keys, wait=False)
        plan = plan_from(result, problems_of(result, "order"))
        if plan.order != order:
            from dataclasses import replace

            plan = replace(plan, order=order)
        if remember:
            store_result(cache_dir, rkey, plan)
        result.finish()
        lifecycle.hold(result)
    return plan, [result.files[i] for i in result.ordering.order]


def lint_directory(directory: Path, settings: MigrateSettings, *,
                   cache_dir: Path | None = None,
                   files: list[MigrationFile] | None = None,
                   keys: list[bytes] | None = None,
                   context: dict[str, Any] | None = None) -> LintReport:
    """Every problem of every rule, for ``migrate lint``. ``context``: what the rules
    know of the target (:class:`~calctl.sql.rules.RuleContext`'s ``pg_version`` and
    ``unapplied``); it is part of the cached result's key."""
    from calctl import lifecycle
    from calctl.sql.cache import store_result

    files, keys, rkey, cached, _ = _stored("lint", directory, settings, cache_dir, files, keys,
                                          repr(sorted(context.items())) if context else "")
    if isinstance(cached, LintReport):
        return cached
    from calctl.sql.plan import problems_of  # (before the analysis: see plan)

    with lifecycle.paused_gc():
        result = analyse_directory(directory, settings, cache_dir=cache_dir, files=files,
                                   keys=keys, wait=False)
        problems = problems_of(result, "lint", {"defines": settings.defines, **(context or {})})
        report = LintReport(directory=str(directory), files=len(result.files),
                            problems=problems)
        store_result(cache_dir, rkey, report)
        result.finish()
        lifecycle.hold(result)
    return report


def _stored(scope: str, directory: Path, settings: MigrateSettings, cache_dir: Path | None,
            files: list[MigrationFile] | None, keys: list[bytes] | None,
            extra: str = "") -> tuple[list[MigrationFile], list[bytes], bytes, object, str]:
    """The directory's files and keys (discovered and hashed unless given), the key of
    its whole ``scope`` result, the result stored under that key (None if none), and
    the name of the order the files are in (:mod:`calctl.sql.layout`)."""
    from calctl.sql.cache import file_keys, load_result, result_key
    from calctl.sql.discovery import discover_layout
    from calctl.sql.layout import detect

    if files is None:
        files, layout = discover_layout(directory, globs=settings.glob,
                                        exclude=settings.exclude, sort=settings.sort)
    else:
        layout = detect(str(directory), [f.path for f in files], [f.raw for f in files],
                        settings.sort)
    if keys is None:
        keys = file_keys(files, settings)
    rkey = result_key(scope, str(directory), [f.path for f in files], keys,
                      (*settings.known_objects, "order=" + layout.order,
                       *((extra,) if extra else ())))
    return files, keys, rkey, load_result(cache_dir, rkey), layout.order
