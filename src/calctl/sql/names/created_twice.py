"""A column or an index created twice with one drop: one creator comes after the drop.

A history that drops a column (or an index) and adds it again later has two plain
creators of one name and one drop. In a misordered history (a scrambled or renumbered
one) the names may put both creators before the drop, or the drop before both: the
second creator then fails ("column … already exists"), and nothing else tells the plan
that one of them belongs after the drop. The names' reading binds the drop, and the
uses, to whichever creator sorts nearest, so these edges are set aside and the drop's
creator is told by everything else, in this order:

1. the other needs, leaving out every object this rule decides: the creator that must
   run before the drop, or the one that must run before the other creator (the table's
   own file before the file adding to it), is the one the drop removes; a creator that
   must run after the drop is the one made again;
2. the columns of the table the drop removes with it: the creator that added more of
   them is the one it undoes (Prisma drops a whole feature's columns at once, and adds
   back one of them later);
3. else the names' order: the first creator is the one dropped.

The drop then needs that creator, and the other creator runs after the drop.

Only for a table made once, that no file drops or renames: a table dropped and made
again takes its columns and indexes with it, unseen by these events. Otherwise two plain
creators with no drop between fail whatever else the history does, so the rule holds in
a history whose names look right too (one misnumbered file that moves no use). The
edge from the drop to the creator made again is soft (``redefines``, as
:func:`calctl.sql.names.providers.chain_providers` gives a drop and the next
definition): it gives way on a cycle; the soft edges ordering the object's events by
their names are left out, this rule orders them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from calctl.sql.facts import (
    ACTION,
    COLUMN,
    CREATE,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    OPEN,
    REF,
    FileAnalysis,
)
from calctl.sql.names.model import SOFT, Edge, Event, object_label


def creators_after_drops(analyses: Sequence[FileAnalysis],
                         events: dict[tuple[str, str], list[Event]],
                         repeated: list[tuple[tuple[str, str], list[Event]]],
                         rebuilt: Collection[str],
                         edges: list[Edge],
                         default_schema: str) -> tuple[set[tuple[int, int, str]], list[Edge]]:
    """The edges (provider, user, object) to remove: those that bound the drop, and the
    needs of the uses that waited for it, to the creator made again, and those ordering
    the object's creators by their names; and the edges to add: the drop's need of the
    creator it removes, and the other creator's wait for the drop (see the module)."""
    found: list[tuple[Event, Event, Event, str, str]] = []  # (creator, creator, drop, …)
    for (kind, name), evs in repeated:
        if len(evs) != 3 or not (kind == "column" or (
                kind == "relation" and evs[0][3][DISPLAY] == "index")):
            continue
        creators = [e for e in evs if e[2] == CREATE and not e[3][GUARDED] and not e[3][OPEN]]
        drops = [e for e in evs if e[2] == DROP and e[3][ACTION] == DROP and not e[3][GUARDED]]
        if len(creators) != 2 or len(drops) != 1 \
                or len({creators[0][0], creators[1][0], drops[0][0]}) != 3:
            continue
        if kind == "column":
            table: str | None = name.rpartition(".")[0]
        else:
            table = _table_of_index(analyses, creators[0])
            if table != _table_of_index(analyses, creators[1]):
                continue
        made = events.get(("relation", table or ""), ())
        if table is None or table in rebuilt or sum(e[2] != DROP for e in made) != 1:
            continue  # (a table made twice may have lost its columns unseen)
        found.append((creators[0], creators[1], drops[0], table,
                      object_label(creators[0][3][DISPLAY], name, default_schema)))
    wrong: set[tuple[int, int, str]] = set()
    added: list[Edge] = []
    if not found:
        return wrong, added
    unsure = {label for *_, label in found}  # (their edges are what is decided here)
    after: dict[int, list[int]] = {}
    bound: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.object in unsure:
            bound.setdefault(edge.object, []).append(edge)
        elif edge.kind not in SOFT:
            after.setdefault(edge.provider, []).append(edge.user)
    for first, second, drop, table, label in found:
        pair = (first, second)
        before = [_reaches(after, c[0], drop[0]) for c in pair]
        later = [_reaches(after, drop[0], c[0]) for c in pair]
        if (before[0] and before[1]) or (later[0] and later[1]):
            continue  # the other needs contradict each other: left to the cycle report
        if before[0] or later[1] or _reaches(after, first[0], second[0]):
            kept = 0
        elif before[1] or later[0] or _reaches(after, second[0], first[0]):
            kept = 1
        else:  # nothing else tells: the columns the drop removes with it
            counts = [_dropped_with(analyses[c[0]], analyses[drop[0]], table) for c in pair]
            kept = 1 if counts[1] > counts[0] else 0
        keep, again = pair[kept], pair[1 - kept]
        # the drop's need of the creator made again, and the needs of that creator's users
        # that the drop waited for, were bound by the names' order
        wrong.add((again[0], drop[0], label))
        wrong.update((e.provider, e.user, label) for e in bound.get(label, ())
                     if e.kind in SOFT or (e.kind == "drops" and e.user == drop[0] and any(
                         u.provider == again[0] and u.user == e.provider
                         for u in bound[label])))
        added.append(Edge(keep[0], drop[0], label, drop[1], 1, keep[0] > drop[0]))
        added.append(Edge(drop[0], again[0], label, again[1], 1, drop[0] > again[0],
                          "redefines"))
    return wrong, added


def _dropped_with(creator: FileAnalysis, dropper: FileAnalysis, table: str) -> int:
    """How many of the columns ``creator`` adds to ``table`` ``dropper`` drops: the drop
    undoes the file it removes most of."""
    prefix = table + "."
    made = {f[NAMES][0] for f in creator.facts
            if f[KIND] == "column" and f[ACTION] == CREATE and f[NAMES][0].startswith(prefix)}
    gone = {f[NAMES][0] for f in dropper.facts
            if f[KIND] == "column" and f[ACTION] == DROP and f[NAMES][0].startswith(prefix)}
    return len(made & gone)


def _reaches(after: dict[int, list[int]], start: int, goal: int) -> bool:
    """Whether a path of hard edges leads from file ``start`` to file ``goal``."""
    seen = {start}
    todo = [start]
    while todo:
        for nxt in after.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def _table_of_index(analyses: Sequence[FileAnalysis], created: Event) -> str | None:
    """The table a ``CREATE INDEX`` names: the table read at the index's own place."""
    fact = created[3]
    for other in analyses[created[0]].facts:
        if other[LINE] == fact[LINE] and other[COLUMN] == fact[COLUMN] \
                and other[ACTION] == REF and other[KIND] == "relation" \
                and other[DISPLAY] == "table":
            return other[NAMES][0]
    return None
