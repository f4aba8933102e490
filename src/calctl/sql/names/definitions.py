"""Which definition of a table created twice a file means, told by its columns.

A history that drops a table and creates it again (a schema redesign) has two plain
``CREATE TABLE`` definitions of one name. Resolution against filename order binds every
use to the nearest earlier one — wrong when the names say nothing (a scrambled or
renumbered history). The columns and constraints each definition's own file makes are
evidence: one that no other file provides belongs to that definition alone, so a file
that uses, alters or drops it means that definition. Such a file runs after the
definition's creator and before the file that drops that definition; the files that drop
definitions run before the definition that is never dropped (the live one), and dropped
definitions keep their filename order. The edges resolution made between files that
mean different definitions (about the table, its columns and constraints) are replaced
by these. Which definition a file dropping the table removes may also come from
:mod:`calctl.sql.names.created_twice` (the other needs of the files), and then every
definition may be dropped, in the order it tells. A file making a foreign key (or a
view) over such a table that the drop of an earlier definition would have to remove
first ("cannot drop table … because other objects depend on it"), and does not, means
the later one — unless that drop is ``DROP TABLE … CASCADE``, which removes them. Files
with no such evidence keep resolution's edges.
"""

from __future__ import annotations

import itertools
from collections.abc import Container, Mapping, Sequence

from calctl.sql.facts import (
    ACTION,
    CREATE,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    OPEN,
    REF,
    WEAK,
    FileAnalysis,
    Span,
)
from calctl.sql.names.columns import holders_of, made_with
from calctl.sql.names.model import Edge, Event, object_label

_MEMBERS = ("column", "constraint")


def _definitions(evs: list[Event]) -> list[int] | None:
    """The files of a table's plain definitions, when there are several and some file
    really drops the table; else None."""
    files: list[int] = []
    for e in evs:
        fact = e[3]
        if e[2] == CREATE and fact[DISPLAY] == "table" and not fact[OPEN] \
                and not fact[GUARDED]:
            if e[0] not in files:
                files.append(e[0])
        elif e[2] != DROP:
            return None  # renamed into the name, replaced, a view…: not told apart here
    if len(files) < 2 or not any(e[2] == DROP and e[3][ACTION] == DROP for e in evs):
        return None
    return files


def by_definition(analyses: Sequence[FileAnalysis],
                  events: dict[tuple[str, str], list[Event]], edges: list[Edge],
                  default_schema: str,
                  removes: Mapping[tuple[str, int], tuple[int, int]] | None = None
                  ) -> list[Edge]:
    """``edges`` with those between files meaning different definitions of a table
    replaced (see the module's documentation). ``removes`` tells, for a file dropping a
    table, the definition it removes when its own statements do not, and that
    definition's place among the table's (from
    :func:`calctl.sql.names.created_twice.creators_after_drops`)."""
    tables: dict[str, list[int]] = {}
    for (kind, name), evs in events.items():
        if kind == "relation" and len(evs) > 2:
            files = _definitions(evs)
            if files is not None:
                tables[name] = files
    if not tables:
        return edges
    # the members each definition's file alone provides: identity → (table, file)
    owner: dict[str, tuple[str, int]] = {}
    for (kind, name), evs in events.items():
        if kind not in _MEMBERS:
            continue
        table = name.rpartition(".")[0]
        files = tables.get(table)
        if files is None:
            continue
        providers = {e[0] for e in evs if e[2] != DROP}
        if len(providers) == 1 and next(iter(providers)) in files \
                and all(e[2] == CREATE for e in evs if e[2] != DROP):
            owner[name] = (table, next(iter(providers)))
    if not owner:
        return edges
    # columns one other file adds to such a table (``ADD COLUMN``): identity → (table,
    # file); a file that means one definition and uses such a column says the adding
    # file means that definition too
    added: dict[str, tuple[str, int]] = {}
    for (kind, name), evs in events.items():
        if kind == "column" and name not in owner:
            table = name.rpartition(".")[0]
            files = tables.get(table)
            providers = {e[0] for e in evs if e[2] != DROP}
            if files is not None and len(providers) == 1 \
                    and next(iter(providers)) not in files:
                added[name] = (table, next(iter(providers)))
    uses_added: list[tuple[int, str, int]] = []  # (file, table, adding file)
    # which definition each file means: (table, file) → definition's file (None: both)
    means: dict[tuple[str, int], int | None] = {}
    for table, files in tables.items():
        for p in files:
            means[(table, p)] = p
    places: dict[str, dict[int, int]] = {}  # table → {definition: place}
    for (table, pos), (p, place) in (removes or {}).items():
        if table in tables:
            means.setdefault((table, pos), p)
            places.setdefault(table, {})[p] = place
    # (file, table, holder): a foreign key (or view) a file makes over a column of such
    # a table, which keeps a plain DROP TABLE from removing the definition it meets
    holding: list[tuple[int, str, tuple[tuple[str, str], ...]]] = []
    for pos, analysis in enumerate(analyses):
        spans: list[Span] | None = None
        for fact in analysis.facts:
            # (a guarded or weak statement, DROP COLUMN IF EXISTS or one in a DO block
            # under IF, may meet either definition: no evidence)
            if fact[KIND] == "column" and fact[ACTION] == REF and not fact[GUARDED] \
                    and fact[NAMES][0].rpartition(".")[0] in tables:
                spans = spans if spans is not None else list(analysis.spans)
                holding.extend((pos, fact[NAMES][0].rpartition(".")[0], holder)
                               for holder in holders_of(fact[NAMES][0], made_with(
                                   analysis, spans, fact[LINE])))
            if fact[KIND] in _MEMBERS and not fact[GUARDED] and fact[ACTION] != WEAK:
                if added and fact[NAMES][0] in added:
                    table, adder = added[fact[NAMES][0]]
                    if adder != pos:
                        uses_added.append((pos, table, adder))
                found = owner.get(fact[NAMES][0])
                if found is not None:
                    key = (found[0], pos)
                    if key in means and means[key] != found[1]:
                        means[key] = None  # evidence for two definitions: undecided
                    else:
                        means[key] = found[1]
    for pos, table, adder in uses_added:
        meant = means.get((table, pos))
        key = (table, adder)
        if meant is not None and (key not in means or means[key] == meant):
            means[key] = meant
        elif meant is not None:
            means[key] = None
    added_edges: list[Edge] = []
    replaced: set[tuple[str, int, int]] = set()  # (table, file, file) decided here
    for table, files in tables.items():
        meaning = {pos: p for (t, pos), p in means.items() if t == table and p is not None}
        label = object_label("table", table, default_schema)
        dropper: dict[int, tuple[int, int]] = {}
        evs = events[("relation", table)]
        for i, e in enumerate(evs):
            if e[2] == DROP and e[3][ACTION] == DROP and e[0] in meaning:
                dropped = meaning[e[0]]
                if dropped == e[0] and any(d[0] == e[0] and d[2] == CREATE
                                           for d in evs[i + 1:]):
                    # DROP TABLE t; CREATE TABLE t … in one file: the drop is the
                    # definition's made before, not the file's own
                    earlier = [d[0] for d in evs[:i] if d[2] == CREATE and d[0] != e[0]]
                    if not earlier:
                        continue
                    dropped = earlier[-1]
                dropper.setdefault(dropped, (e[0], e[1]))
        live = [p for p in files if p not in dropper]
        rank = places.get(table, {})
        if not live and set(rank) == set(files):  # each dropped, in a known order
            ordered = sorted(files, key=rank.__getitem__)
        elif len(live) == 1:
            ordered = [p for p in files if p in dropper] + live
        else:
            continue  # which definition comes last is not known
        for pos, holder in ((pos, h) for pos, t, h in holding if t == table):
            if pos not in meaning and pos not in files:
                # a definition dropped before the next is made, while what the file
                # makes over it is still there, is not the one it means ("other objects
                # depend on it"); the last definition's drop, or one with CASCADE, may
                # remove it
                possible = [p for i, p in enumerate(ordered) if p == ordered[-1]
                            or _cascades(evs, dropper[p])
                            or _released(holder, dropper[p][0], ordered[i + 1:], dropper,
                                         events)]
                if len(possible) == 1:
                    meaning[pos] = possible[0]
        for a, b in itertools.pairwise(ordered):
            at, line = dropper[a]
            added_edges.append(Edge(at, b, label, line, 1, at > b, "uses"))
        for pos, p in meaning.items():
            if pos != p:
                added_edges.append(Edge(p, pos, label, 1, 1, p > pos))
            gone = dropper.get(p)
            if gone is not None and gone[0] != pos:
                added_edges.append(Edge(pos, gone[0], label, gone[1], 1, pos > gone[0], "drops",
                                  gone[1]))
        for pos in meaning:
            for other in meaning:
                if meaning[pos] != meaning[other]:
                    replaced.add((table, pos, other))
    if not added_edges:
        return edges
    prefix = default_schema + "."

    def about(edge: Edge) -> str | None:
        name = edge.object.partition(" ")[2].strip('"')
        for candidate in (name, prefix + name):
            table = candidate
            while table:
                if table in tables:
                    return table
                table = table.rpartition(".")[0]
        return None

    kept = [edge for edge in edges
            if not replaced or (about(edge), edge.provider, edge.user) not in replaced]
    seen = {(edge.provider, edge.user, edge.object) for edge in kept}
    for edge in added_edges:
        if (edge.provider, edge.user, edge.object) not in seen:
            seen.add((edge.provider, edge.user, edge.object))
            kept.append(edge)
    return kept



def _cascades(evs: list[Event], drop: tuple[int, int]) -> bool:
    """Whether the drop at ``drop`` (file, line) is ``DROP TABLE … CASCADE``: it removes
    the foreign keys and views over the table with it."""
    return any((e[0], e[1]) == drop and e[2] == DROP and e[3][OPEN] for e in evs)


def _released(holder: tuple[tuple[str, str], ...], dropping: int, later: list[int],
              dropper: dict[int, tuple[int, int]],
              events: dict[tuple[str, str], list[Event]]) -> bool:
    """Whether a foreign key or view (``holder``: the events keys whose drop removes it)
    may be gone before file ``dropping`` drops a definition: that file drops it, or a
    plain drop does in a file that drops none of the ``later`` definitions (a cleanup's
    DROP … IF EXISTS, or the drop of a later definition, may come any time after)."""
    after = {dropper[q][0] for q in later if q in dropper}
    return any(e[2] == DROP and (e[0] == dropping or (not e[3][GUARDED] and e[0] not in after))
               for key in holder for e in events.get(key) or ())


def other_definition(evs: list[Event], at: int, pos: int,
                     banned: Container[int]) -> int | None:
    """Another definition for a use at ``pos`` that resolution bound to ``evs[at]`` and
    must not (the binding closed a cycle, or the definition has the label the use adds):
    the nearest earlier definition by another file whose file is not ``banned``, else
    the first later one; None when there is none (the binding stays)."""
    for i in range(at - 1, -1, -1):
        e = evs[i]
        if e[2] != DROP and e[0] != evs[at][0] and e[0] != pos and e[0] not in banned:
            return i
    for i in range(at + 1, len(evs)):
        e = evs[i]
        if e[2] != DROP and e[0] > pos and e[0] not in banned:
            return i
    return None
