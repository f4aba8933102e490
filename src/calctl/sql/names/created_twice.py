"""A column, index or table created twice with one drop: one creator comes after it.

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

A table itself is read the same way: made, dropped and made again (three events), or
also dropped again (four: then the second drop is the one the later definition must run
before, told by the other needs, else reading order). For a table the second reason
counts every object the creator makes and the drop removes, and the edges about its
columns and constraints are left out of the first (names bound them too); which
definition each drop removes goes to :func:`calctl.sql.names.definitions.by_definition`,
which places the table's other users by it.

For a column or an index, only on a table made once, that no file drops or renames: a
table dropped and made again takes its columns and indexes with it, unseen by these
events. Otherwise two plain
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
    CREATE,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    NAMES,
    OPEN,
    FileAnalysis,
)
from calctl.sql.names.model import (
    SOFT,
    Edge,
    Event,
    Reach,
    object_label,
    set_aside,
    table_of_index,
)


def creators_after_drops(analyses: Sequence[FileAnalysis],
                         events: dict[tuple[str, str], list[Event]],
                         repeated: list[tuple[tuple[str, str], list[Event]]],
                         rebuilt: Collection[str],
                         edges: list[Edge],
                         default_schema: str) -> tuple[set[tuple[int, int, str]], list[Edge],
                                                       dict[tuple[str, int], tuple[int, int]]]:
    """The edges (provider, user, object) to remove: those that bound the drop, and the
    needs of the uses that waited for it, to the creator made again, and those ordering
    the object's creators by their names; the edges to add: the drop's need of the
    creator it removes, and the other creator's wait for the drop (see the module); and
    for a table, which definition the drop removes: (table, dropping file) → (creating
    file, its place among the table's definitions), for
    :func:`calctl.sql.names.definitions.by_definition`."""
    # (creator, creator, drop, members' prefix, label, the table when it is the object,
    # the table's second drop when it has one)
    found: list[tuple[Event, Event, Event, str, str, str, Event | None]] = []
    for (kind, name), evs in repeated:
        display = evs[0][3][DISPLAY]
        if len(evs) not in (3, 4) or not (kind == "column" or (
                kind == "relation" and display in ("index", "table"))):
            continue
        creators = [e for e in evs if e[2] == CREATE and not e[3][GUARDED] and not e[3][OPEN]]
        if display == "table":
            table_drops = _table_drops(evs, creators)
            if table_drops is not None:
                found.append((creators[0], creators[1], table_drops[0], "",
                              object_label("table", name, default_schema), name,
                              table_drops[1]))
            continue
        drops = [e for e in evs if e[2] == DROP and e[3][ACTION] == DROP and not e[3][GUARDED]]
        if len(evs) != 3 or len(creators) != 2 or len(drops) != 1 \
                or len({creators[0][0], creators[1][0], drops[0][0]}) != 3:
            continue
        if kind == "column":
            table: str | None = name.rpartition(".")[0]
        else:
            table = table_of_index(analyses, creators[0])
            if table != table_of_index(analyses, creators[1]):
                continue
        made = events.get(("relation", table or ""), ())
        if table is None or table in rebuilt or sum(e[2] != DROP for e in made) != 1:
            continue  # (a table made twice may have lost its columns unseen)
        found.append((creators[0], creators[1], drops[0], table + ".",
                      object_label(creators[0][3][DISPLAY], name, default_schema), "", None))
    wrong: set[tuple[int, int, str]] = set()
    added: list[Edge] = []
    removes: dict[tuple[str, int], tuple[int, int]] = {}
    if not found:
        return wrong, added, removes
    unsure = {f[4] for f in found}  # (their edges are what is decided here)
    tables = {f[5] + "." for f in found if f[5]}
    if tables:  # a table's columns and constraints were bound by the names alone too
        unsure.update(object_label(evs[0][3][DISPLAY], name, default_schema)
                      for (kind, name), evs in events.items()
                      if kind in ("column", "constraint")
                      and name[:name.rfind(".") + 1] in tables)
    bound, reach = set_aside(edges, unsure)
    for first, second, drop, members, label, table, last in found:
        pair = (first, second)
        if last is not None:  # made, dropped, made again, dropped again: see _twice
            twice = _twice(reach, analyses, first, second, drop, last)
            removes.update({(table, d[0]): (c[0], i) for i, (c, d) in enumerate(twice)})
            files = {first[0], second[0], drop[0], last[0]}
            wrong.update((e.provider, e.user, label) for e in bound.get(label, ())
                         if e.provider in files and e.user in files)
            (early, removal), (late, _) = twice
            added.append(Edge(early[0], removal[0], label, removal[1], 1,
                              early[0] > removal[0]))
            added.append(Edge(removal[0], late[0], label, late[1], 1, removal[0] > late[0],
                              "redefines"))
            added.extend(Edge(c[0], d[0], label, d[1], 1, c[0] > d[0]) for c, d in twice[1:])
            continue
        before = [reach(c[0], drop[0]) for c in pair]
        later = [reach(drop[0], c[0]) for c in pair]
        if (before[0] and before[1]) or (later[0] and later[1]):
            continue  # the other needs contradict each other: left to the cycle report
        if before[0] or later[1] or reach(first[0], second[0]):
            kept = 0
        elif before[1] or later[0] or reach(second[0], first[0]):
            kept = 1
        else:  # nothing else tells: the columns the drop removes with it
            counts = [_dropped_with(analyses[c[0]], analyses[drop[0]], members) for c in pair]
            kept = 1 if counts[1] > counts[0] else 0
        keep, again = pair[kept], pair[1 - kept]
        if table:
            removes[(table, drop[0])] = (keep[0], 0)
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
    return wrong, added, removes


def _table_drops(evs: list[Event], creators: list[Event]
                 ) -> tuple[Event, Event | None] | None:
    """The drops of a table with two plain definitions, each event in its own file: the
    one drop of a table made, dropped and made again (unguarded), or both of one also
    dropped again (the last may be guarded: it drops the table all the same); else
    None."""
    if len(creators) != 2 or len({e[0] for e in evs}) != len(evs) \
            or any(e[3][DISPLAY] != "table" for e in evs):
        return None
    drops = [e for e in evs if e[2] == DROP and e[3][ACTION] == DROP]
    if len(evs) == 4 and len(drops) == 2:
        return drops[0], drops[1]
    if len(evs) == 3 and len(drops) == 1 and not drops[0][3][GUARDED]:
        return drops[0], None
    return None


def _twice(reach: Reach, analyses: Sequence[FileAnalysis], first: Event,
           second: Event, drop: Event, last: Event) -> list[tuple[Event, Event]]:
    """The two (definition, its drop) of a table made, dropped, made again and dropped
    again, in the order they ran. The definitions are told apart as one creator and
    one drop are (the module), by the other needs between the two definitions, then the
    objects the drops remove with them, then reading order; the drops by the other
    needs between the later definition and them (the one it must run before is the
    second), then by a guard (a ``DROP … IF EXISTS`` beside a plain drop is the cleanup
    after both), then reading order."""
    made = [first, second]
    drops = [drop, last]
    if reach(second[0], first[0]):
        made.reverse()
    elif not reach(first[0], second[0]):
        counts = [max(_dropped_with(analyses[c[0]], analyses[d[0]], "") for d in drops)
                  for c in made]
        if counts[1] > counts[0]:
            made.reverse()
    after_second = [reach(made[1][0], d[0]) for d in drops]
    before_second = [reach(d[0], made[1][0]) for d in drops]
    guarded = [d[3][GUARDED] for d in drops]
    if after_second == [True, False] or before_second == [False, True]:
        drops.reverse()
    elif after_second == before_second and guarded == [True, False]:
        drops.reverse()  # a cleanup's DROP … IF EXISTS is the last drop, not the first
    return list(zip(made, drops, strict=True))


def _dropped_with(creator: FileAnalysis, dropper: FileAnalysis, members: str) -> int:
    """How many of the objects ``creator`` makes, of those whose name starts with
    ``members`` (a table's columns; every object for a table itself), ``dropper``
    drops: the drop undoes the file it removes most of."""
    made = {(f[KIND], f[NAMES][0]) for f in creator.facts
            if f[ACTION] == CREATE and f[NAMES][0].startswith(members)}
    gone = {(f[KIND], name) for f in dropper.facts if f[ACTION] == DROP
            for name in f[NAMES] if name.startswith(members)}
    return len(made & gone)
