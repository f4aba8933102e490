"""Which definition of a table created twice a file means, told by its columns.

A history that drops a table and creates it again (a schema redesign), or renames it
away and makes the name again (``ALTER TABLE jobs RENAME TO jobs_legacy; CREATE TABLE
jobs …``; the last definition may be a view), has several definitions of one name.
Resolution against filename order binds every use to the nearest earlier one — wrong
when the names say nothing (a scrambled or renumbered history). The columns and
constraints each definition's own file makes are evidence: one that no other file
provides belongs to that definition alone, so a file that uses, alters or drops it
means that definition; so does a file adding a column (``ADD COLUMN``) when one table
definition was made without it (:func:`_adders`). Such a file runs after the
definition's creator and before the file that removes that definition. A table one of
whose definitions is a view has no member owned by one definition: a view over the
freed name shows the old table's columns under the same names, so a column is no
evidence there. An index one file makes on the definition it makes is evidence even
then (a view has none) — where that definition's removal drops it: renamed away and
kept, the table takes its indexes along. A ``CREATE OR REPLACE FUNCTION`` returning
the table's rows means what the one plain definition of that overload returning those
rows means (the return type cannot change); a column read through a rename made by a
file making no definition tells which definition that file renames away (all three in
:mod:`calctl.sql.names.evidence`).

Which definition each removal (``DROP TABLE`` or ``RENAME TO``) removes: the one its
file's own statements mean; in a file that removes the table and makes it again, one
made by another file; else one made by a file it need not run before. Each definition
is removed once, so a removal told that way is no other file's (:func:`_removals`).
"Need not run before" reads the other needs between the files, only those about
objects one file makes and at most one removes: the others (the remade tables' own
among them) are guesses of the names' order. The definitions then follow each other
(:func:`_chain`): a file that removes one and makes the next links them, runs of linked
definitions are placed by those needs, else in reading order, and the one never removed
(the live one) comes last. Which definition a file dropping the table removes may also
come from :mod:`calctl.sql.names.created_twice` (the other needs of the files), and then
every definition may be dropped, in the order it tells.

A file using the table with no such evidence means the only definition those needs let
it run beside: made by a file it need not precede, removed by one that need not precede
it — those needs growing with each file placed so, and with the chain; for a file
writing the table's rows, not a view PostgreSQL cannot write (``evidence.read_only``). A
file making a foreign key (or a view) over the table that the removal of an earlier
definition would have to remove first ("cannot drop table … because other objects depend
on it"), and does not, means the later one — unless that drop is ``DROP TABLE …
CASCADE``, which removes them. The edges resolution made between files that mean
different definitions (about the table, its columns, constraints and row type), and
between the files making and removing definitions, are replaced by these. Files with no
such evidence keep resolution's edges.
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
    RENAME,
    WEAK,
    FileAnalysis,
    Span,
)
from calctl.sql.names.columns import holders_of, made_with
from calctl.sql.names.evidence import kept_index, read_only, renames_away, replaced_rows
from calctl.sql.names.model import (
    SOFT,
    Edge,
    Event,
    Reach,
    object_label,
    table_of_index,
    tell,
)

_MEMBERS = ("column", "constraint")
_OWNED = (*_MEMBERS, "relation")  # (the relations owned are indexes)
# what removes a definition: DROP TABLE, or ALTER TABLE … RENAME TO (the name is free
# for the next one)
_GONE = (DROP, RENAME)
_ROWS = frozenset({"relation", "type"})  # a table, and its row type
_READ = _ROWS | {"column", "constraint", "trigger"}


def _definitions(evs: list[Event]) -> list[int] | None:
    """The files of a table's plain definitions (a view made over the name after the
    table was renamed away counts as one), when there are several and some file really
    drops the table or renames it away; else None."""
    files: list[int] = []
    for e in evs:
        fact = e[3]
        if e[2] == CREATE and not fact[GUARDED] and (
                (fact[DISPLAY] == "table" and not fact[OPEN]) or fact[DISPLAY] == "view"):
            if e[0] not in files:
                files.append(e[0])
        elif e[2] != DROP:
            return None  # renamed into the name, replaced…: not told apart here
    if len(files) < 2 or not any(e[2] == DROP and e[3][ACTION] in _GONE for e in evs):
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
    # (a view over the name may show any column of any table: no member is one
    # definition's alone)
    viewed = {table for table in tables
              if any(e[2] == CREATE and e[3][DISPLAY] == "view"
                     for e in events[("relation", table)])}
    for (kind, name), evs in events.items():
        if kind not in _MEMBERS:
            continue
        table = name.rpartition(".")[0]
        files = tables.get(table)
        if files is None or table in viewed:
            continue
        providers = {e[0] for e in evs if e[2] != DROP}
        if len(providers) == 1 and next(iter(providers)) in files \
                and all(e[2] == CREATE for e in evs if e[2] != DROP):
            owner[name] = (table, next(iter(providers)))
    # an index one file makes on the definition it makes is that definition's (a view
    # has none, so this holds for a table a view later shows too): a file dropping or
    # renaming it means that definition
    for (kind, name), evs in events.items():
        made = [e for e in evs if e[2] != DROP] if kind == "relation" else []
        if len(made) != 1 or made[0][2] != CREATE or made[0][3][DISPLAY] != "index":
            continue
        table = table_of_index(analyses, made[0]) or ""
        pos, line = made[0][0], made[0][1]
        if table in tables and pos in tables[table] and any(
                e[0] == pos and e[2] == CREATE and e[1] <= line
                for e in events[("relation", table)]):
            owner[name] = (table, pos)
    # columns one other file adds to such a table (``ADD COLUMN``): identity → (table,
    # file); a file that means one definition and uses such a column says the adding
    # file means that definition too
    added: dict[str, tuple[str, int]] = {}
    for (kind, name), evs in events.items():
        if kind == "column" and name not in owner:
            table = name.rpartition(".")[0]
            files = tables.get(table)
            providers = {e[0] for e in evs if e[2] != DROP}
            if files is not None and table not in viewed and len(providers) == 1 \
                    and next(iter(providers)) not in files:
                added[name] = (table, next(iter(providers)))
    uses_added: list[tuple[int, str, int]] = []  # (file, table, adding file)
    # which definition each file means: (table, file) → definition's file (None: both)
    means: dict[tuple[str, int], int | None] = {}
    for table, files in tables.items():
        for p in files:
            means[(table, p)] = p
    _adders(events, tables, means)
    places: dict[str, dict[int, int]] = {}  # table → {definition: place}
    for (table, pos), (p, place) in (removes or {}).items():
        if table in tables:
            means.setdefault((table, pos), p)
            places.setdefault(table, {})[p] = place
    # (file, table, holder): a foreign key (or view) a file makes over a column of such
    # a table, which keeps a plain DROP TABLE from removing the definition it meets
    holding: list[tuple[int, str, tuple[tuple[str, str], ...]]] = []
    # table → the files using it (not guarded), its row type or its members
    users: dict[str, set[int]] = {}
    # a table only a rename makes (``jobs_old``) → the renaming file; (renaming file,
    # file) for each use of such a table's member (``DROP TRIGGER t ON jobs_old``): it
    # runs after the rename, though no event of the member's own name says so
    renamed_by = {name: made[0][0] for (kind, name), evs in events.items()
                  if kind == "relation"
                  and len(made := [e for e in evs if e[2] != DROP]) == 1
                  and made[0][2] == RENAME}
    renamed: list[tuple[int, int]] = []
    # such a table renamed from one with several definitions, by a file making none:
    # name → (renaming file, old name); a column of it that one definition's file alone
    # made tells the definition that file renames away
    freed = {name: (e[0], e[3][NAMES][0]) for (kind, name), evs in events.items()
             if kind == "relation" and name in renamed_by
             and (e := next(e for e in evs if e[2] == RENAME))[3][NAMES][0] in tables
             and e[0] not in tables[e[3][NAMES][0]]}
    typed: list[tuple[int, str, int]] = []  # (file, table, line): its row type named
    # (table, file): a file whose statements write the table's rows (INSERT, UPDATE…)
    writers: set[tuple[str, int]] = set()
    # (table, file): told by an index of one definition; by a column or constraint
    by_index: set[tuple[str, int]] = set()
    by_member: set[tuple[str, int]] = set()
    for pos, analysis in enumerate(analyses):
        spans: list[Span] | None = None
        for fact in analysis.facts:
            kind = fact[KIND]
            if kind in _READ and not fact[GUARDED] and fact[ACTION] != WEAK:
                name = fact[NAMES][0]
                table = name if kind in _ROWS else name.rpartition(".")[0]
                if table in tables:
                    if kind != "trigger":
                        users.setdefault(table, set()).add(pos)
                    if kind == "relation" and fact[ACTION] == REF and fact[OPEN]:
                        writers.add((table, pos))
                    if kind == "type" and fact[ACTION] == REF:
                        typed.append((pos, table, fact[LINE]))
                else:
                    if kind not in _ROWS and renamed_by.get(table, pos) != pos:
                        renamed.append((renamed_by[table], pos))
                    if kind == "column" and table in freed:
                        renames_away(freed[table], name, events, tables, means)
            # (a guarded or weak statement, DROP COLUMN IF EXISTS or one in a DO block
            # under IF, may meet either definition: no evidence)
            if fact[KIND] == "column" and fact[ACTION] == REF and not fact[GUARDED] \
                    and fact[NAMES][0].rpartition(".")[0] in tables:
                spans = spans if spans is not None else list(analysis.spans)
                holding.extend((pos, fact[NAMES][0].rpartition(".")[0], holder)
                               for holder in holders_of(fact[NAMES][0], made_with(
                                   analysis, spans, fact[LINE])))
            if fact[KIND] in _OWNED and not fact[GUARDED] and fact[ACTION] != WEAK:
                if added and fact[NAMES][0] in added:
                    table, adder = added[fact[NAMES][0]]
                    if adder != pos:
                        uses_added.append((pos, table, adder))
                found = owner.get(fact[NAMES][0])
                if found is not None:
                    key = (found[0], pos)
                    (by_index if kind == "relation" else by_member).add(key)
                    tell(means, key, found[1])
    if typed:
        replaced_rows(analyses, events, tables, typed, means)
    for pos, table, adder in uses_added:
        meant = means.get((table, pos))
        if meant is not None:
            tell(means, (table, adder), meant)
    prefix = default_schema + "."
    abouts: dict[str, str | None] = {}  # (edges share their objects)

    def about(edge: Edge) -> str | None:
        found = abouts.get(edge.object, "")
        if found != "":
            return found
        name = edge.object.partition(" ")[2].strip('"')
        for candidate in (name, prefix + name):
            table = candidate
            while table:
                if table in tables:
                    abouts[edge.object] = table
                    return table
                table = table.rpartition(".")[0]
        abouts[edge.object] = None
        return None

    # the order the other needs give: those about objects one file makes and at most
    # one removes (the others, the remade tables' own among them, are guesses)
    sure = {object_label(evs[0][3][DISPLAY], name, default_schema)
            for (kind, name), evs in events.items()
            if (evs[0][2] != DROP if len(evs) == 1
                else len(evs) == 2 and (evs[0][2] == DROP) != (evs[1][2] == DROP))}
    reach = Reach(edge for edge in edges if edge.kind not in SOFT and edge.object in sure
                   and about(edge) is None)
    for renaming, pos in renamed:
        reach.add(renaming, pos)
    added_edges: list[Edge] = []
    replaced: set[tuple[str, int, int]] = set()  # (table, file, file) decided here
    for table, files in tables.items():
        meaning = {pos: p for (t, pos), p in means.items() if t == table and p is not None}
        label = object_label("table", table, default_schema)
        evs = events[("relation", table)]
        dropper = _removals(files, evs, meaning, reach)
        for pos in [pos for pos in meaning if (table, pos) in by_index - by_member
                    and kept_index(evs, dropper.get(meaning[pos]), events)]:
            del meaning[pos]
        live = [p for p in files if p not in dropper]
        rank = places.get(table, {})
        if not live and set(rank) == set(files):  # each dropped, in a known order
            ordered = sorted(files, key=rank.__getitem__)
        else:
            ordered = _chain(files, dropper, live, reach)
            if not ordered:
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
        removers = {at for at, _ in dropper.values()}
        for a, b in itertools.pairwise(ordered):
            reach.add(a, dropper[a][0])
            reach.add(dropper[a][0], b)
        for pos, p in meaning.items():
            _settle(reach, pos, p, dropper)
        unwritable = read_only(analyses, table, files) \
            if any(t == table for t, _ in writers) else set()
        undecided = [pos for pos in sorted(users.get(table, ()))
                     if pos not in meaning and pos not in files and pos not in removers]
        while undecided:
            # the only definition the other needs let the file run beside: made by a
            # file it need not precede, removed by one that need not precede it (each
            # file placed so tells more of the others)
            told = []
            for pos in undecided:
                possible = [p for p in ordered if not reach(pos, p)
                            and (p not in dropper or not reach(dropper[p][0], pos))
                            and ((table, pos) not in writers or p not in unwritable)]
                if len(possible) == 1:
                    meaning[pos] = possible[0]
                    _settle(reach, pos, possible[0], dropper)
                    told.append(pos)
            if not told:
                break
            undecided = [pos for pos in undecided if pos not in told]
        # a file writing the table that the needs above leave undecided, and the names
        # bound (by the table's name or row type) to a view it cannot write: the last
        # table left (any would do, as far as anything here tells; the view would not)
        rows = {label, object_label("type", table, default_schema)}
        bound: dict[int, set[int]] = {}
        left = {pos for pos in undecided if (table, pos) in writers} if unwritable else set()
        for edge in edges if left else ():
            if edge.user in left and edge.provider in files and edge.kind == "uses" \
                    and edge.object in rows:
                bound.setdefault(edge.user, set()).add(edge.provider)
        for pos, got in sorted(bound.items()):
            possible = [p for p in ordered if not reach(pos, p)
                        and (p not in dropper or not reach(dropper[p][0], pos))
                        and p not in unwritable]
            if got <= unwritable and possible:
                meaning[pos] = possible[-1]
                _settle(reach, pos, possible[-1], dropper)
        for a, b in itertools.pairwise(ordered):
            at, line = dropper[a]
            if at != a:  # the removal needs what it removes
                added_edges.append(Edge(a, at, label, line, 1, a > at))
            if at != b:  # (not the file that removes one and makes the next)
                added_edges.append(Edge(at, b, label, line, 1, at > b, "uses"))
        for p, (at, _) in dropper.items():
            if at not in files:
                meaning.setdefault(at, p)
        # the chain tells the order of the files making and removing definitions: what
        # resolution guessed between them goes
        chained = set(files) | removers
        replaced.update((table, pos, other) for pos in chained for other in chained)
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


def _adders(events: dict[tuple[str, str], list[Event]], tables: Mapping[str, list[int]],
            means: dict[tuple[str, int], int | None]) -> None:
    """A file adding a column (``ADD COLUMN``) to such a table does not mean a definition
    made with that column ("column … already exists"), nor a view: when one definition
    is left, it means that one (in ``means``)."""
    views = {table: {e[0] for e in events[("relation", table)]
                     if e[2] == CREATE and e[3][DISPLAY] == "view"} for table in tables}
    for (kind, name), evs in events.items():
        if kind != "column":
            continue
        table = name.rpartition(".")[0]
        files = tables.get(table)
        if files is None:
            continue
        made = {e[0] for e in evs if e[2] == CREATE and e[0] in files}
        lacking = [p for p in files if p not in made and p not in views[table]]
        if not made or len(lacking) != 1:
            continue
        for e in evs:
            if e[2] == CREATE and e[0] not in files and not e[3][GUARDED]:
                tell(means, (table, e[0]), lacking[0])


def _settle(reach: Reach, pos: int, p: int,
            dropper: Mapping[int, tuple[int, int]]) -> None:
    """File ``pos`` means the definition file ``p`` made: after it, and before the file
    removing it."""
    reach.add(p, pos)
    gone = dropper.get(p)
    if gone is not None:
        reach.add(pos, gone[0])


def _removals(files: list[int], evs: list[Event], meaning: Mapping[int, int],
              reach: Reach) -> dict[int, tuple[int, int]]:
    """Which definition each file dropping the table (or renaming it away) removes:
    definition → (file, line). A file removes the one its own statements mean; one it
    made itself before; else one it need not run before — and each definition is
    removed once, so a removal told elsewhere is no other file's."""
    options: dict[int, tuple[int, set[int]]] = {}  # file → (line, what it may remove)
    for pos, p in meaning.items():
        reach.add(p, pos)  # (a file meaning a definition runs after the file making it)
    for i, e in enumerate(evs):
        pos = e[0]
        if e[2] != DROP or e[3][ACTION] not in _GONE or pos in options:
            continue
        if pos in files and any(d[0] == pos and d[2] == CREATE for d in evs[:i]):
            may = {pos}  # CREATE TABLE t …; DROP TABLE t: its own
        elif meaning.get(pos, pos) != pos:
            may = {meaning[pos]}
        else:  # (DROP TABLE t; CREATE TABLE t … in one file: one made before)
            may = {p for p in files if p != pos and not reach(pos, p)}
        options[pos] = (e[1], may)
    told: set[int] = set()
    while True:
        now = {next(iter(may)) for _, may in options.values() if len(may) == 1}
        if now == told:
            break
        told = now
        for _, may in options.values():
            if len(may) > 1:
                may -= told
    dropper: dict[int, tuple[int, int]] = {}
    for pos, (line, may) in options.items():
        if len(may) == 1:
            dropper.setdefault(next(iter(may)), (pos, line))
    return dropper


def _chain(files: list[int], dropper: Mapping[int, tuple[int, int]], live: list[int],
           reach: Reach) -> list[int]:
    """The definitions in the order they existed, or [] when that is not known: a file
    that removes one and makes the next links them; runs of linked definitions follow
    each other as the other needs say (else in reading order), the run ending with the
    one ``live`` definition last. With none live, one run must hold them all."""
    if len(live) > 1:
        return []
    following = {p: dropper[p][0] for p in files
                 if p in dropper and dropper[p][0] in files and dropper[p][0] != p}
    runs: list[list[int]] = []
    for p in files:
        if p in following.values():
            continue
        run = [p]
        while run[-1] in following and following[run[-1]] not in run:
            run.append(following[run[-1]])
        runs.append(run)
    if sum(len(run) for run in runs) != len(files) or (not live and len(runs) > 1):
        return []  # (a loop, or runs with no last one)
    final = next(run for run in runs if not live or run[-1] == live[0])
    rest = [run for run in runs if run is not final]

    def needed_before(run: list[int], other: list[int]) -> bool:
        return any(reach(x, other[0]) for p in run for x in (p, dropper[p][0]))

    ordered: list[int] = []
    while rest:
        first = next((run for run in rest if not any(
            needed_before(other, run) for other in rest if other is not run)), rest[0])
        rest.remove(first)
        ordered.extend(first)
    return ordered + final


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
