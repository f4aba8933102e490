"""Overloads replayed in plan order: where a function's overloads make a file fail.

Which overloads of a function exist at a point depends on the order of every file that
makes or drops one, which no single dependency edge says, and three statements fail on
it: ``DROP FUNCTION [IF EXISTS] f`` without arguments while two overloads exist
("function name "f" is not unique" — guarded or not), a plain ``CREATE FUNCTION f(int)``
while ``f(int)`` exists ("already exists with same argument types"), and ``DROP
FUNCTION f(int)`` while it does not. A history that adds a second overload beside the
first and later drops the first by its arguments has a window where a by-name drop
fails, and a plan of a history numbered at random can put one there. So, once a plan is
made, :func:`separate` replays the overloads of the functions where that can happen,
file by file in plan order, and moves a file meeting such a clash: after the next file
dropping one of the overloads it meets (or that file before it), or before a file that
made one of them (or that file after it) — of these, the move leaving the fewest clashes
(the likeliest, in that order, among equals), never more than before, a bounded number
of times; and only when the moving file passes no file that needs it where it is, or
that it needs (a use when it runs, an idempotent creator a use counts on; a use in a
function body and a soft edge hold nothing). Functions whose schema some file drops are
left alone (their overloads go where the replay cannot follow). Only in a history whose
filename order already fails (see :func:`calctl.sql.names.providers.chain_providers`
for why not in an intact one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from calctl.sql.facts import (
    ACTION,
    CREATE,
    DROP,
    KIND,
    LINE,
    NAMES,
    PROVIDING,
    REF,
    RENAME,
    WEAK,
    FileAnalysis,
)
from calctl.sql.names.model import SOFT, Edge

ROUNDS = 64  # moves tried at most: each replays the whole plan

# (line, overload made or dropped — "" for a drop by name —, function name, action)
_Event = tuple[int, str, str, str]


def separate(order: list[int], analyses: Sequence[FileAnalysis], edges: list[Edge],
             choices: Iterable[tuple[tuple[int, ...], int]]) -> tuple[list[int], list[Edge]]:
    """``order`` (positions in execution order) with the files meeting an overload
    clash moved out of it (see the module's docstring),
    and ``edges`` without those the new order breaks: what a file needs when it runs
    holds it in place; a use in a function body (or a guarded statement) does not, nor
    does a soft edge, and either is no edge any more when a move puts it backwards."""
    events = _events(analyses)
    if not events:
        return order, edges
    hard_lines: dict[int, set[int]] = {}

    def needed(file: int, line: int) -> bool:  # a use when the file runs, not later
        lines = hard_lines.get(file)
        if lines is None:
            lines = hard_lines[file] = {f[LINE] for f in analyses[file].facts
                                        if f[ACTION] != WEAK}
        return line in lines

    # (a drop's edge comes from a use in file ``provider``, at ``line``)
    weak = {e for e in edges if e.kind in ("uses", "drops")
            and not needed(e.user if e.kind == "uses" else e.provider, e.line)}
    hard = [(e.provider, e.user) for e in edges if e.kind not in SOFT and e not in weak]
    chosen = list(choices)
    clashes = _clashes(order, events)
    seen = {tuple(order)}
    best = (len(clashes), order)
    start = order
    for _ in range(min(4 * len(events), ROUNDS)):  # a move may leave as many clashes
        fresh = []
        for at, name, alive in clashes:  # the first clash some move eases
            dropped = next((i for i in range(at + 1, len(order))
                            if any(e[1] in alive and e[2] == name and e[3] == DROP
                                   for e in events.get(order[i], ()))), None)
            # (from, to), the likeliest first: after the file dropping one of what it
            # meets (or that file before it): then it drops what was there to drop;
            # else before a maker of what it meets, or that maker after it
            tries = [(at, dropped), (dropped, at)] if dropped is not None else []
            tries += [move for made in sorted(set(alive.values()), reverse=True)
                      for move in ((at, made), (made, at))]
            moves = [_shift(order, i, j, hard, chosen) for i, j in tries]
            fresh = [(len(c), m, c) for m in moves if m is not None and tuple(m) not in seen
                     for c in [_clashes(m, events)] if len(c) <= len(clashes)]
            if fresh:
                break
        if not fresh:
            break
        _, order, clashes = min(fresh, key=lambda t: t[0])
        seen.add(tuple(order))
        best = min(best, (len(clashes), order), key=lambda t: t[0])
        if not clashes:
            break
    if best[1] == start:
        return start, edges
    index = {pos: i for i, pos in enumerate(best[1])}
    return best[1], [e for e in edges if index[e.provider] < index[e.user]
                     or (e.kind not in SOFT and e not in weak)]


def _events(analyses: Sequence[FileAnalysis]) -> dict[int, list[_Event]]:
    """Per file, the overload events of the functions that may meet a clash: some file
    drops them by name and they have two overloads or more in the directory, or some
    file makes one of their overloads with a plain ``CREATE`` and another file makes
    it too. (A drop by arguments needs its overload — unless guarded, or no file makes
    it: then it is another tool's, or nothing.)"""
    per_file: dict[int, list[_Event]] = {}
    by_name: set[str] = set()
    signatures: dict[str, set[str]] = {}
    makers: dict[str, set[int]] = {}
    plain: set[str] = set()
    dropped_schemas: set[str] = set()
    for pos, analysis in enumerate(analyses):
        dropped_schemas.update(f[NAMES][0] for f in analysis.facts
                               if f[KIND] == "schema" and f[ACTION] == DROP)
        exact = {f[LINE] for f in analysis.facts if f[KIND] == "overload" and f[ACTION] == DROP}
        found: list[_Event] = []
        for f in analysis.facts:
            if f[KIND] == "overload":  # made, dropped, or needed (an unguarded drop)
                overload = f[NAMES][0]
                name = overload.partition("(")[0]
                signatures.setdefault(name, set()).add(overload)
                if f[ACTION] in PROVIDING:
                    makers.setdefault(overload, set()).add(pos)
                    if f[ACTION] == CREATE:
                        plain.add(overload)
                found.append((f[LINE], overload, name, f[ACTION]))
            elif f[KIND] == "function" and (f[ACTION] == RENAME or (
                    f[ACTION] == DROP and f[LINE] not in exact)):
                for name in f[NAMES]:  # (a rename names no overload: it ends them all)
                    by_name.add(name)
                    found.append((f[LINE], "", name, f[ACTION]))
        if found:
            per_file[pos] = sorted(found, key=lambda e: (e[0], e[3] != REF))
    wanted = {name for name in by_name if len(signatures.get(name, ())) > 1}
    wanted.update(o.partition("(")[0] for o in plain if len(makers[o]) > 1)
    # (a dropped schema takes its functions with it: the replay leaves those alone)
    wanted = {n for n in wanted if n.partition(".")[0] not in dropped_schemas}
    out: dict[int, list[_Event]] = {}
    for pos, found in per_file.items():
        kept = [e for e in found if e[2] in wanted and (e[3] != REF or e[1] in makers)]
        if kept:
            out[pos] = kept
    return out


def _clashes(order: list[int], events: dict[int, list[_Event]],
             ) -> list[tuple[int, str, dict[str, int]]]:
    """(index of a file that meets a clash, the function, its overloads then and the
    index of the file that made each), in order: a by-name drop meeting two overloads,
    a plain ``CREATE`` of an overload that exists (then only that one), or a drop by
    arguments of one that does not (none)."""
    alive: dict[str, dict[str, int]] = {}
    found = []
    for at, pos in enumerate(order):
        for _, overload, name, action in events.get(pos, ()):
            existing = alive.setdefault(name, {})
            if not overload:  # a drop (or rename) by name
                if action == DROP and len(existing) > 1 and max(existing.values()) < at:
                    found.append((at, name, dict(existing)))
                existing.clear()
            elif action == REF:  # a drop by arguments needs its overload
                if overload not in existing:
                    found.append((at, name, {}))
            elif action == DROP:
                existing.pop(overload, None)
            elif action == CREATE and existing.get(overload, at) < at:
                found.append((at, name, {overload: existing[overload]}))
            else:
                existing.setdefault(overload, at)
    return found


def _shift(order: list[int], i: int, j: int, edges: list[tuple[int, int]],
           choices: list[tuple[tuple[int, ...], int]]) -> list[int] | None:
    """``order`` with the file at index ``i`` moved to index ``j`` (before the file
    there when ``j < i``, after it when ``j > i``); None when it would pass a file it
    needs (moving earlier) or one that needs it (moving later), or leave a use with
    none of the idempotent creators it counts on before it."""
    node = order[i]
    index = {pos: at for at, pos in enumerate(order)}
    if j < i:
        passed = set(order[j:i])
        if any(b == node and a in passed for a, b in edges) or any(
                user == node and passed & set(members)
                and not any(index[m] < j for m in members) for members, user in choices):
            return None
        return [*order[:j], node, *order[j:i], *order[i + 1:]]
    passed = set(order[i + 1:j + 1])
    if any(a == node and b in passed for a, b in edges) or any(
            node in members and user in passed
            and not any(m != node and index[m] < index[user] for m in members)
            for members, user in choices):
        return None
    return [*order[:i], *order[i + 1:j + 1], node, *order[j + 1:]]
