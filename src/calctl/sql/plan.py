"""The migration plan: the dependency-safe order of a directory's files.

Pure: given the files and their analyses, :func:`order_analyses` resolves names across
files and orders them, :func:`problems_of` runs the rules, and :func:`plan_from` makes
the ``migration-plan`` document that ``migrate order`` prints and ``migrate
apply/verify`` execute. Reading, caching and running the analysis (in one process or
several) is :mod:`calctl.sql.runtime`'s.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.documents import Dependency, MigrationPlan, Move, PlanFile, Problem

# Imported with this module, not when first called: the runtime imports this module before
# the files are analysed (beside the early child), so these are not paid after the
# analysis, when nothing else runs (~10 ms of a cold 2,000-file run).
from calctl.sql.directives import SQUAWK_ALL, SQUAWK_PREFIX
from calctl.sql.graph import Ordering, stable_order
from calctl.sql.names import SOFT, Duplicate, Edge, Missing, Resolution, resolve
from calctl.sql.names.model import DROPS_OF
from calctl.sql.overload_count import separate
from calctl.sql.rules import RuleContext, rules_for

if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql.discovery import MigrationFile
    from calctl.sql.facts import FileAnalysis


@dataclass(frozen=True)
class DirectoryAnalysis:
    """A directory's files, their analyses, and how they resolve and order."""

    directory: Path
    files: list[MigrationFile]            # filename order
    analyses: list[FileAnalysis]
    resolution: Resolution
    ordering: Ordering
    default_schema: str
    # waits for worker processes still writing the parse cache (see calctl.sql.runtime)
    finish: Callable[[], None] = field(default=lambda: None, compare=False)


def order_analyses(directory: Path, files: list[MigrationFile],
                   analyses: list[FileAnalysis], settings: MigrateSettings,
                   finish: Callable[[], None] = lambda: None) -> DirectoryAnalysis:
    """Resolve names across ``files`` (filename order) and order them."""
    default_schema = (tuple(settings.search_path) or ("public",))[0]
    resolution = resolve(analyses, known=settings.known_objects, default_schema=default_schema)
    ordering = _ordered(len(files), resolution)
    if not ordering.cycles and any(e.forward for e in resolution.edges):
        resolution, ordering = _creators_in_place(analyses, resolution, ordering,
                                                  settings.known_objects, default_schema)
    if ordering.cycles:
        # a cycle can be broken once nothing else can be placed, or where it stands
        # (graph.stable_order's ``early``); the rebinding that follows reads the files in
        # that order, so each way leads to its own plan: the one with the fewest cycles,
        # then the fewest files out of filename order, is kept (ties: the first way)
        tried = [_rebound(analyses, resolution, first, settings.known_objects,
                          default_schema, early)
                 for early, first in ((False, ordering),
                                      (True, _ordered(len(files), resolution, early=True)))]
        resolution, ordering = min(tried, key=lambda t: (len(t[1].cycles),
                                                         _out_of_order(t[1].order)))
    if ordering.ignored:  # filename-order hints that gave way to real needs are no edges
        ignored = set(ordering.ignored)
        resolution.edges = [e for e in resolution.edges
                            if e.kind not in SOFT or (e.provider, e.user) not in ignored]
    if any(e.forward for e in resolution.edges):  # (a misordered history: see the module)
        order, resolution.edges = separate(ordering.order, analyses, resolution.edges,
                                           resolution.choices)
        ordering = replace(ordering, order=order)
    return DirectoryAnalysis(directory, files, analyses, resolution, ordering, default_schema,
                             finish)


def _rebound(analyses: list[FileAnalysis], resolution: Resolution, ordering: Ordering,
             known: Sequence[str], default_schema: str,
             early: bool) -> tuple[Resolution, Ordering]:
    """From an order with cycles: some use of an object several files define was bound
    by filename order to the wrong definition (a history numbered at random); bind again
    as if the files were in the plan's order, each use on a cycle to another definition
    when there is one; the latest result with the fewest cycles is kept (a fixpoint, or
    the order seen before: two bindings of a file may each place it for the other).

    The bindings to avoid add up, so one that sat on a cycle only because of another's
    mistake stays banned once that mistake is mended, and the search can settle with the
    right binding banned; so when cycles are left, it starts once more from the best
    order with no binding banned (graphile-worker, where every file redefines the same
    functions: 79 → 100 % of files applied at one seed, no other history changed)."""
    current = best = resolution, ordering
    for attempt in range(SEARCHES):
        if attempt:
            if not best[1].cycles:
                break
            current = best
        avoid: set[tuple[int, int, str]] = set()
        seen: set[tuple[tuple[int, ...], int]] = set()
        for _ in range(REBINDS):
            avoid |= _on_cycles(*current)
            state = (tuple(current[1].order), len(avoid))
            if state in seen:
                break  # a fixpoint: the same order, and no binding left to ban
            seen.add(state)
            again = rebind(analyses, current[1].order, known, default_schema, avoid, early)
            if len(again[1].cycles) <= len(best[1].cycles):
                best = again
            current = again
    return best


def _creators_in_place(analyses: list[FileAnalysis], resolution: Resolution,
                       ordering: Ordering, known: Sequence[str],
                       default_schema: str) -> tuple[Resolution, Ordering]:
    """A use binds by filename order, so in a misordered history a use sorting after a
    rebuild of its object (``CREATE t_new; DROP t; RENAME t_new TO t``) binds to the
    definition of a creator that sorts after it too, where the plan runs that creator
    before the rebuild: the use is then read as needing the old table, waits for the
    rebuild's drop (a ``drops`` edge against filename order) and runs on a table that
    is about to go. Read the files again in the order the plan gives without those
    edges, where the creator runs before the rebuild and the use after it; kept unless
    that makes a cycle (a history numbered at random has them: see :func:`_rebound`)."""
    kept = [e for e in resolution.edges if not (e.forward and e.kind == "drops")]
    if len(kept) == len(resolution.edges):
        return resolution, ordering
    reading = _ordered(len(analyses), replace(resolution, edges=kept)).order
    if reading == ordering.order:
        return resolution, ordering
    again = rebind(analyses, reading, known, default_schema, set())
    return (resolution, ordering) if again[1].cycles else again


def _out_of_order(order: list[int]) -> int:
    """How many files run after a file their name sorts after (those a plan moves)."""
    return sum(old < high for old, high in zip(order[1:], itertools.accumulate(order, max),
                                                strict=False))


REBINDS = 8
SEARCHES = 2  # (see _rebound)


def _ordered(count: int, resolution: Resolution, early: bool = False) -> Ordering:
    return stable_order(count,
                        [(e.provider, e.user) for e in resolution.edges if e.kind not in SOFT],
                        resolution.choices,
                        [(e.provider, e.user) for e in resolution.edges if e.kind in SOFT],
                        early=early)


def _on_cycles(resolution: Resolution, ordering: Ordering) -> set[tuple[int, int, str]]:
    """(provider, user, object) of the uses and drops on the reported cycles; for a drop
    (a file that must run before the file dropping the object), also (definition,
    dropping file, object): the dropping file drops another definition than the one the
    file uses, and every use of that one is free of it (marked ``DROPS_OF``)."""
    steps = {(a, b) for cycle in ordering.cycles for a, b in itertools.pairwise(cycle)}
    out = {(e.provider, e.user, e.object) for e in resolution.edges
           if e.kind in ("uses", "drops") and (e.provider, e.user) in steps}
    drops = {(e.provider, e.object): e.user for e in resolution.edges
             if e.kind == "drops" and (e.provider, e.user) in steps}
    if drops:
        out.update((e.provider, drops[(e.user, e.object)], DROPS_OF + e.object)
                   for e in resolution.edges
                   if e.kind == "uses" and (e.user, e.object) in drops)
    return out


def rebind(analyses: list[FileAnalysis], order: list[int], known: Sequence[str],
           default_schema: str,
           avoid: set[tuple[int, int, str]],
           early: bool = False) -> tuple[Resolution, Ordering]:
    """Resolution and ordering with the files read in ``order`` instead of filename
    order; positions are filename positions again, ``forward`` against filename order."""
    at = {old: new for new, old in enumerate(order)}
    again = resolve([analyses[i] for i in order], known=known, default_schema=default_schema,
                    avoid={(at[a], at[b], what) for a, b, what in avoid}, misordered=True)
    ordering = _ordered(len(order), again, early)
    back = order
    edges = [Edge(back[e.provider], back[e.user], e.object, e.line, e.column,
                  back[e.provider] > back[e.user], e.kind, e.drop_line) for e in again.edges]
    result = Resolution(
        edges=edges,
        missing=[Missing(back[m.user], *m[1:]) for m in again.missing],
        duplicates=[Duplicate(back[d.file], back[d.other], *d[2:]) for d in again.duplicates],
        choices=[(tuple(back[m] for m in members), back[user])
                 for members, user in again.choices])
    return result, Ordering([back[i] for i in ordering.order],
                            [[back[i] for i in cycle] for cycle in ordering.cycles],
                            [(back[a], back[b]) for a, b in ordering.ignored])


def _silenced(problem: Problem, index: dict[str, FileAnalysis],
              squawk: dict[str, tuple[str, ...]]) -> bool:
    """Whether an ignore comment silences ``problem``: calctl's naming its code, or
    squawk's naming the rule's squawk twin (``squawk``: code → ``squawk:<name>`` …,
    :mod:`calctl.sql.directives`)."""
    analysis = index.get(problem.path)
    if analysis is None:
        return False
    names = (problem.code, *squawk.get(problem.code, ()))
    if any(name in analysis.file_ignores for name in names):
        return True
    if problem.line is None:
        return False
    # a statement's span starts after the previous one, so it holds the comments above it
    return any(span.first <= problem.line <= span.last
               and any(name in span.ignores for name in names)
               for span in analysis.spans)


def problems_of(result: DirectoryAnalysis, scope: str,
                context: dict[str, Any] | None = None) -> list[Problem]:
    """Every problem of the rules in ``scope``, ignore comments applied, in file order.
    ``context``: more :class:`~calctl.sql.rules.RuleContext` fields (``pg_version``…)."""
    ctx = RuleContext(result.files, result.analyses, result.resolution, result.ordering,
                      result.default_schema, **(context or {}))
    index = {f.path: a for f, a in zip(result.files, result.analyses, strict=True)}
    position = {f.path: i for i, f in enumerate(result.files)}
    ran = rules = rules_for(scope)
    found: list[Problem] = []
    if scope == "lint":  # the statement rules parse each file once for all of them
        from calctl.sql.rules.statement import StatementRule, check_statements

        found.extend(check_statements(ctx, [r for r in rules if isinstance(r, StatementRule)]))
        rules = [r for r in rules if not isinstance(r, StatementRule)]
    found[:0] = [p for rule in rules for p in rule.check(ctx)]
    # a bare `-- squawk-ignore-file` silences every rule that has a squawk twin
    squawk = {rule.code: (*(SQUAWK_PREFIX + n for n in rule.squawk), SQUAWK_ALL)
              for rule in ran if rule.squawk}
    problems = [p for p in found if not _silenced(p, index, squawk)]
    problems.sort(key=lambda p: (position.get(p.path, -1), p.line or 0, p.code))
    return problems


def plan_from(result: DirectoryAnalysis, problems: Sequence[Problem]) -> MigrationPlan:
    files = result.files
    new_position = {old: new for new, old in enumerate(result.ordering.order)}
    # a use any of several idempotent creators meets names the one placed first
    choices = {(members[0], user): members for members, user in result.resolution.choices}
    needs: dict[int, list[Dependency]] = {}
    forward: dict[int, list[int]] = {}
    waits: dict[int, str] = {}  # a file that drops or renames what a later file still uses
    unsafe = False  # a forward use, or a drop before a use
    for provider, user, what, line, _, ahead, kind, _ in result.resolution.edges:
        if kind == "uses":
            if choices:
                provider = _chosen(choices, provider, user, new_position)
            # (path, object, line) by position: ~6,000 of them on a 2,000-file run, where
            # keywords cost a third more
            dependency = Dependency(files[provider].path, what, line)
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
    # user → (file, object, line) of every file it needs ("" for an order, not a use):
    # only for the reasons of files that move
    providers: dict[int, list[tuple[int, str, int]]] = {}
    order = result.ordering.order
    if _out_of_order(order):
        for e in result.resolution.edges:
            provider = _chosen(choices, e.provider, e.user, new_position) \
                if choices and e.kind == "uses" else e.provider
            providers.setdefault(e.user, []).append(
                (provider, e.object + NAMED[e.kind] if e.kind in NAMED else "", e.line))
    plan_files: list[PlanFile] = []
    moves: list[Move] = []
    highest = -1
    for new, old in enumerate(result.ordering.order):
        moved = old < highest
        highest = max(highest, old)
        reason = ""
        if moved:
            reason = _reason(result, old, new, forward, waits, providers, new_position)
            # right after the file placed before it (renamed first when it moves too):
            # renaming every listed file so gives a filename order that is the plan's
            after = result.ordering.order[new - 1]
            moves.append(Move(path=files[old].path, after=files[after].path, reason=reason))
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
                         problems=list(problems), safe=safe, moves=moves)


def _chosen(choices: dict[tuple[int, int], tuple[int, ...]], provider: int, user: int,
            new_position: dict[int, int]) -> int:
    """The file a use names: for a use any of several idempotent creators meets, the one
    that runs first (unless a broken cycle left them all after it: then the one the
    cycle names)."""
    members = choices.get((provider, user))
    if members is None:
        return provider
    first = min(members, key=new_position.__getitem__)
    return first if new_position[first] < new_position[user] else provider


def _reason(result: DirectoryAnalysis, old: int, new: int, forward: dict[int, list[int]],
            waits: dict[int, str], providers: dict[int, list[tuple[int, str, int]]],
            new_position: dict[int, int]) -> str:
    """Why the file at filename position ``old`` runs later than its name says."""
    files = result.files
    after = max(forward.get(old, []), default=-1)
    if after >= 0:
        return f"needs {_what(providers, old, after)} from {files[after].path}"
    if old in waits:
        return waits[old]
    # what it needs that was placed last: a file sorting after it, or one that moved
    placed = [(new_position[p], p) for p, _, _ in providers.get(old, ())
              if new_position[p] < new]
    if not placed:
        return ""
    _, last = max(placed)
    if last > old:
        return f"needs {_what(providers, old, last)} from {files[last].path}"
    return f"needs {files[last].path}, which moved"


# the edges whose object a move's reason names: what the file uses, or what it drops
# once another file has removed what was made with it (frees)
NAMED = {"uses": "", "frees": " freed"}


def _what(providers: dict[int, list[tuple[int, str, int]]], user: int, provider: int) -> str:
    for file, what, line in providers.get(user, ()):
        if file == provider and what:
            return f"{what} (line {line})"
    return "an object"
