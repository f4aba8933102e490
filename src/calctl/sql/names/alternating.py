"""A column or index added and dropped again and again: one chain, add, drop, add …

Prisma histories toggle a feature: a file adds ``User.email``, the next drops it, a third
adds it back, a fourth drops it again, often in byte-identical files. With four events
or more, :mod:`calctl.sql.names.created_twice` (which decides three) stands aside, and
the names bind each drop and each adder to whichever event sorts nearest: in a
misordered history two adders then run with no drop between ("column … already exists")
or a drop runs before any adder.

Whatever the files are called, such a column exists only between an adder and the next
drop, so the events alternate, adder first: the adders in one order, the drops in one
order, interleaved. The adders are put in order by the other needs (a file that must run
before another adder comes first: the table's own ``CREATE TABLE`` before the files
adding to it), else reading order; the drops fill the places between them in reading
order, as far as the other needs allow (a drop that must run after the third adder is the
third drop or later; one that must run before it, the second or earlier). Each drop needs
the adder before it; the next adder waits for it
(``redefines``, soft, as :func:`calctl.sql.names.providers.chain_providers` gives a drop
and the next definition). A file using the column between them (bound by its name to
one adder) runs before that adder's drop, not before whichever drop the names put next.

Only for a column or an index of a table made once, that no file drops, renames or
rebuilds (its columns would go with it unseen); an index only over columns no file drops
but one that drops the index too (likewise); only plain, unguarded events, each in a file
of its own, as many drops as adders or one fewer. A history whose filename order applies
has these events alternating already, and reading order keeps that chain, so the rule
adds no edge filename order breaks.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from calctl.sql.facts import (
    ACTION,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    NAMES,
    OPEN,
    REF,
    FileAnalysis,
)
from calctl.sql.names.model import (
    SOFT,
    Edge,
    Event,
    Reach,
    object_label,
    set_aside,
    statement_facts,
    table_of_index,
)


def alternating_chains(analyses: Sequence[FileAnalysis],
                       events: dict[tuple[str, str], list[Event]],
                       repeated: list[tuple[tuple[str, str], list[Event]]],
                       rebuilt: Collection[str], edges: list[Edge],
                       default_schema: str) -> tuple[set[tuple[int, int, str]], list[Edge]]:
    """The edges (provider, user, object) to remove — those the names bound between the
    chain's events, and the users' waits for a drop of another adder — and the edges to
    add: each drop after its adder, each adder after the drop before it, each user
    before its adder's drop (see the module)."""
    found: list[tuple[list[Event], list[Event], str]] = []
    for (kind, name), evs in repeated:
        if len(evs) < 4 or not (kind == "column" or evs[0][3][DISPLAY] == "index"):
            continue
        chain = _events(analyses, events, rebuilt, kind, name, evs)
        if chain is not None:
            found.append((*chain, object_label(evs[0][3][DISPLAY], name, default_schema)))
    wrong: set[tuple[int, int, str]] = set()
    added: list[Edge] = []
    if not found:
        return wrong, added
    unsure = {label for _, _, label in found}
    bound, reach = set_aside(edges, unsure)
    for creators, drops, label in found:
        creators = _ordered(creators, reach)
        drops = _placed(drops, creators, reach)
        files = {e[0] for e in [*creators, *drops]}
        drop_of = {c[0]: d for c, d in zip(creators, drops, strict=False)}
        for edge in bound.get(label, ()):
            if (edge.provider in files and edge.user in files) or edge.kind in SOFT:
                wrong.add((edge.provider, edge.user, label))
            elif edge.kind == "uses" and edge.provider in drop_of:
                drop = drop_of[edge.provider]
                added.append(Edge(edge.user, drop[0], label, edge.line, edge.column,
                                  edge.user > drop[0], "drops", drop[1]))
            elif edge.kind == "drops" and edge.user in files:
                wrong.add((edge.provider, edge.user, label))  # (placed by its adder)
        for i, (creator, drop) in enumerate(zip(creators, drops, strict=False)):
            added.append(Edge(creator[0], drop[0], label, drop[1], 1, creator[0] > drop[0]))
            if i + 1 < len(creators):
                after = creators[i + 1]
                added.append(Edge(drop[0], after[0], label, after[1], 1, drop[0] > after[0],
                                  "redefines"))
    return wrong, added


def _events(analyses: Sequence[FileAnalysis], events: dict[tuple[str, str], list[Event]],
            rebuilt: Collection[str], kind: str, name: str, evs: list[Event]
            ) -> tuple[list[Event], list[Event]] | None:
    """The adders and the drops of a column or index the module's rule applies to, in
    reading order; else None."""
    creators = [e for e in evs if e[2] != DROP]
    drops = [e for e in evs if e[2] == DROP and e[3][ACTION] == DROP]
    if len(creators) + len(drops) != len(evs) or len(drops) not in (
            len(creators) - 1, len(creators)) or len({e[0] for e in evs}) != len(evs) \
            or any(e[3][GUARDED] or e[3][OPEN] for e in evs):
        return None
    if kind == "column":
        table: str | None = name.rpartition(".")[0]
    else:
        table = table_of_index(analyses, creators[0])
        dropping = {e[0] for e in drops}
        if any(table_of_index(analyses, c) != table for c in creators[1:]) or any(
                e[2] == DROP and e[0] not in dropping for c in creators
                for column in _indexed(analyses, c) for e in events.get(("column", column))
                or ()):
            return None  # (a column's drop takes its indexes along, unseen)
    if table is None or table in rebuilt:
        return None
    made = events.get(("relation", table), ())
    if len(made) != 1 or made[0][2] == DROP:
        return None  # (a table made twice, dropped or renamed takes its columns along)
    return creators, drops


def _indexed(analyses: Sequence[FileAnalysis], created: Event) -> set[str]:
    """The columns the statement making an index names."""
    return {f[NAMES][0] for f in statement_facts(analyses[created[0]], created[1])
            if f[KIND] == "column" and f[ACTION] == REF}


def _ordered(creators: list[Event], reach: Reach) -> list[Event]:
    """The adders in the order the other needs put them, else reading order."""
    ordered: list[Event] = []
    for creator in creators:
        at = len(ordered)
        while at > 0 and reach(creator[0], ordered[at - 1][0]):
            at -= 1
        ordered.insert(at, creator)
    return ordered


def _placed(drops: list[Event], creators: list[Event], reach: Reach) -> list[Event]:
    """The drops in chain order: place by place, the first in reading order of those the
    other needs allow there (a drop that must run after the k-th adder is the k-th drop
    or later) — unless one must be placed now (it must run before the next adder)."""
    def bounds(drop: Event) -> tuple[int, int]:
        after = max((i for i, c in enumerate(creators) if reach(c[0], drop[0])), default=0)
        before = min((i - 1 for i, c in enumerate(creators) if i and reach(drop[0], c[0])),
                     default=len(creators))
        return after, before
    left = {drop: bounds(drop) for drop in drops}
    placed: list[Event] = []
    for at in range(len(drops)):
        allowed = [d for d in drops if d in left and left[d][0] <= at] or \
            [d for d in drops if d in left]
        due = [d for d in allowed if left[d][1] <= at]
        chosen = (due or allowed)[0]
        placed.append(chosen)
        del left[chosen]
    return placed
