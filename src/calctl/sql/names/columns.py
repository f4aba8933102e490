"""Where a use of a column binds when its table or the column itself changes over the
history: drops and re-adds, renames, rebuilt tables, views over a retyped column."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

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
    NEW,
    OPEN,
    PROVIDING,
    RENAME,
    Fact,
    FileAnalysis,
    Span,
)
from calctl.sql.names.model import (
    Edge,
    Event,
    Missing,
    Resolution,
    object_label,
    statement_facts,
)

# the displays of relations ``ALTER TABLE … ADD COLUMN`` cannot change
VIEWS = ("view", "materialized view")


def redefined_columns(events: dict[tuple[str, str], list[Event]],
                       dropped: set[tuple[str, str]]) -> dict[str, list[int]]:
    """Columns a file drops (plainly: not ``IF EXISTS``, not ``CASCADE``) and adds again
    (Prisma's way to change a column's type), and the files that do it."""
    out: dict[str, list[int]] = {}
    for kind, name in dropped:
        if kind != "column":
            continue
        evs = events[(kind, name)]
        files = [b[0] for a, b in itertools.pairwise(evs)
                 if a[2] == DROP and a[3][ACTION] == DROP and not a[3][GUARDED]
                 and b[2] != DROP and a[0] == b[0]]
        if files:
            out[name] = files
    return out



def holders_of(column: str,
             made: list[tuple[str, str, int, str]]) -> list[tuple[tuple[str, str], ...]]:
    """What the statement using ``column`` makes that keeps PostgreSQL from dropping the
    column: a foreign key of another table, or a view, over it (each as the events
    keys whose drop releases it: the constraint and its table, or the view)."""
    table = column.rpartition(".")[0]
    out: list[tuple[tuple[str, str], ...]] = []
    for kind, name, _, display in made:
        if kind == "constraint":
            owner = name.rpartition(".")[0]
            if owner != table:
                out.append(((kind, name), ("relation", owner)))
        elif kind == "relation" and display in ("view", "materialized view"):
            out.append(((kind, name),))
    return out



def is_released(holder: tuple[tuple[str, str], ...], made: int, dropping: int,
              events: dict[tuple[str, str], list[Event]]) -> bool:
    """Whether a holder made in file ``made`` may be gone when file ``dropping`` drops
    the column: it runs after it, or a file between them (in filename order) drops it.
    When not, the file that makes it runs after the one that drops and adds the column
    again ("cannot drop … because other objects depend on it" otherwise; "foreign key
    constraint … cannot be implemented" when it meets the old column) — a history whose
    filename order applies has it there already."""
    if made > dropping:
        return False  # made after: the edge only keeps filename order
    return any(made <= e[0] <= dropping and e[2] == DROP
               for key in holder for e in events.get(key) or ())



def made_with(analysis: FileAnalysis, spans: list[Span],
               line: int) -> list[tuple[str, str, int, str]]:
    """(kind, identity, line, display) of what the statement holding ``line`` creates."""
    span = next((s for s in spans if s.first <= line <= s.last), None)
    if span is None:
        return []
    return [(f[KIND], f[NAMES][0], f[LINE], f[DISPLAY]) for f in analysis.facts
            if f[ACTION] in PROVIDING and span.first <= f[LINE] <= span.last]



def renamed_along(events: dict[tuple[str, str], list[Event]],
                  candidates: list[tuple[str, str]], after: tuple[int, int],
                  ) -> list[tuple[str, str]]:
    """``candidates`` (a table, and a trigger or column of it) also under the names the
    table takes after ``after``: a trigger made on ``t`` is dropped as ``u``'s after
    ``ALTER TABLE t RENAME TO u``."""
    out = list(candidates)
    tables = [(name, after) for kind, name in candidates if kind == "relation"]
    while tables:
        table, since = tables.pop()
        for e in events.get(("relation", table)) or ():
            fact = e[3]
            if (e[0], e[1]) > since and fact[ACTION] == RENAME and fact[NEW]:
                new = fact[NEW]
                if ("relation", new) in out:
                    continue
                out.append(("relation", new))
                out += [(kind, new + name[len(table):]) for kind, name in candidates
                        if kind != "relation" and name.startswith(table + ".")]
                tables.append((new, (e[0], e[1])))
    return out


def first_drop(events: dict[tuple[str, str], list[Event]],
                candidates: list[tuple[str, str]], after: tuple[int, int],
                before: tuple[int, int], plain: bool = False) -> int | None:
    """The file of the first real DROP of one of ``candidates`` between two points
    (``plain``: not ``IF EXISTS``, a drop that cannot be a no-op)."""
    found: int | None = None
    for key in candidates:
        for e in events.get(key) or ():
            if (after < (e[0], e[1]) < before and e[3][ACTION] == DROP
                    and not (plain and e[3][GUARDED])):
                found = e[0] if found is None else min(found, e[0])
                break
    return found



def view_and_retype(pos: int, line: int, view: str, column: str,
                     retyped: list[tuple[int, Fact]],
                     events: dict[tuple[str, str], list[Event]],
                     add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """A view over ``column`` made at (pos, line): each change of the column's type
    stays before the view is made, or after it is dropped, as in filename order."""
    evs = events.get(("relation", view)) or []
    dropped = next(((e[0], e[1]) for e in evs if (e[0], e[1]) > (pos, line)
                    and e[3][ACTION] == DROP), None)
    label = object_label("column", column, default_schema)
    for at, fact in retyped:
        if fact[NAMES][0] != column:
            continue
        where = (at, fact[LINE])
        if where < (pos, line) and at != pos:
            add_edge(Edge(at, pos, label, line, 1, False, "keeps", line))
        elif dropped is not None and dropped < where and dropped[0] != at:
            add_edge(Edge(dropped[0], at, label, fact[LINE], 1, False, "keeps", fact[LINE]))



def readded_columns(events: dict[tuple[str, str], list[Event]],
                     dropped: set[tuple[str, str]], add_edge: Callable[[Edge], None],
                     default_schema: str) -> set[tuple[int, int, str]]:
    """``ADD COLUMN c`` to a table whose one ``CREATE TABLE`` already has ``c``, and
    exactly one file that drops (or renames away) ``c``: the adding file needs ``c``
    gone, so it runs after that drop, whatever the names say ("column already
    exists"). Only for a table made once (by a plain ``CREATE TABLE``, never renamed
    into its name: once dropped it cannot be altered), one plain adding file and one
    dropping file: any history whose filename order applies has them in this order
    already, so this never raises a false alarm."""
    wrong: set[tuple[int, int, str]] = set()  # edges (provider, user, object) to drop
    for kind, column in dropped:
        evs = events[(kind, column)]
        if kind != "column" or len(evs) < 3:
            continue
        table = column.rpartition(".")[0]
        made_by = [e for e in events.get(("relation", table)) or () if e[2] != DROP]
        if len(made_by) != 1 or made_by[0][2] != CREATE or made_by[0][3][OPEN]:
            continue
        made = made_by[0][0]
        creators = [e for e in evs if e[2] != DROP]
        drops = [e for e in evs if e[2] == DROP]
        adders = [e for e in creators if e[0] != made]
        if (len(drops) != 1 or len(adders) != 1 or len(creators) != 2
                or any(e[3][GUARDED] for e in [*creators, *drops])
                or all(e[0] != made for e in creators)):
            continue
        drop, adder = drops[0], adders[0]
        if drop[0] != adder[0] and drop[0] != made:
            label = object_label("column", column, default_schema)
            add_edge(Edge(drop[0], adder[0], label, adder[1], 1, drop[0] > adder[0], "drops",
                          adder[1]))
            # the drop needs the column the table was made with
            add_edge(Edge(made, drop[0], label, drop[1], 1, made > drop[0]))
            wrong.add((adder[0], drop[0], label))
    return wrong



def lost_with_table(pos: int, line: int, provider: Event, column: str, rebuilt: set[str],
                     events: dict[tuple[str, str], list[Event]],
                     add_edge: Callable[[Edge], None], default_schema: str,
                     rebound: set[tuple[int, int]],
                     misbound: set[tuple[int, int, str]]) -> None:
    """A column used in file ``pos``, added by ``provider`` to a table that a file
    between them drops (or renames away) and defines again without the column: in
    filename order the column is gone when it is used, so the file that added it
    belongs after the new definition (a forward dependency of the adding file). A
    table rebuilt by renaming another one into its name keeps that one's columns; one
    whose new definition does not list all its columns (``LIKE``, ``AS``, dynamic
    SQL) is given the benefit of the doubt. The adding file's uses of the table then
    belong to the new definition: (adding file, dropping file) goes into ``rebound``,
    whose "drops" edges are taken back. When the column came with the table itself
    (its ``CREATE TABLE``), the use at ``line`` is the one out of place: it runs before
    the file that dropped the table, and its use of the table is the old table's (the
    edge from the new definition goes into ``misbound``, to be taken back)."""
    table = column.rpartition(".")[0]
    if table not in rebuilt:
        return
    evs = events.get(("relation", table)) or []
    start = (provider[0], provider[1])
    gone = next((i for i, e in enumerate(evs) if start < (e[0], e[1]) and e[0] < pos
                 and e[2] == DROP and not e[3][GUARDED]), None)
    if gone is None or evs[gone][0] == provider[0]:
        return
    # the table as the use meets it: its last definition before the use
    again = next((e for e in reversed(evs[gone + 1:]) if e[0] < pos and e[2] != DROP), None)
    if again is None or again[0] == provider[0] or again[3][OPEN]:
        return
    name = column.rpartition(".")[2]
    if again[2] == RENAME:
        old = again[3][NAMES][0]
        made = [e for e in events.get(("relation", old)) or () if e[2] != DROP]
        if not made or any(e[3][OPEN] for e in made):
            return  # the renamed table's columns are not all known
        if any((e[0], e[1]) < (again[0], again[1]) and e[2] != DROP
               for e in events.get(("column", f"{old}.{name}")) or ()):
            return  # it had the column
    elif any(e[0] == again[0] and e[2] != DROP
             for e in events.get(("column", column)) or ()):
        return  # defined again with the column
    if any(e[0] == provider[0] and e[2] != DROP and e[1] <= start[1] for e in evs):
        # made with the table: that file cannot follow a rebuild of the table; the use
        # met the old table, so it runs before the rebuild (a forward dependency too)
        dropper = evs[gone]
        label = object_label(again[3][DISPLAY], table, default_schema)
        add_edge(Edge(pos, dropper[0], label, line, 1, pos > dropper[0], "drops",
                      dropper[1]))
        misbound.add((again[0], pos, label))
        return
    add_edge(Edge(again[0], provider[0], object_label(again[3][DISPLAY], table, default_schema),
                  provider[1], 1, True))
    rebound.add((provider[0], evs[gone][0]))



def through_rename(pos: int, fact: Fact, chosen: str,
                    events: dict[tuple[str, str], list[Event]],
                    add_edge: Callable[[Edge], None], label_of: Callable[[str], str]) -> bool:
    """A column of a table that got its name from ``ALTER TABLE old RENAME TO new``
    before this use: the column came with the table, so the use binds to the column of
    the old name as it was at the rename (through a chain of renames). True when it did
    (an edge to the file that made the column, unless it is this file). The same holds
    for the table's other members named ``table.name``: triggers and constraints.
    ``label_of`` names a member for an edge: the use's edges carry the name it reads,
    the renaming file's the name the member had there."""
    kind = fact[KIND]
    label = label_of(chosen)
    table, _, column = chosen.rpartition(".")
    at_pos, at_line = pos, fact[LINE]
    for hop in range(16):  # a chain of renames; a loop of them ends here too
        into = None
        table_events = events.get(("relation", table)) or ()
        for e in table_events:
            if e[0] > at_pos or (e[0] == at_pos and e[1] > at_line):
                break
            into = e
        if into is None and hop == 0 and table_events:
            # the table gets this name only in a later file: a misordered use, which
            # needs that rename (and below, the member as it was then)
            into = table_events[0]
            if into[2] == RENAME:
                add_edge(Edge(into[0], pos, label, fact[LINE], fact[COLUMN], True))
        elif into is not None and hop == 0 and into[2] == DROP and into[0] != pos:
            # dropped before this use in reading order, and made only by a rename: a
            # misordered use, which runs between the two
            made = [e for e in table_events if e[2] != DROP]
            if len(made) == 1 and made[0][2] == RENAME and made[0][0] != pos:
                add_edge(Edge(made[0][0], pos, label, fact[LINE], fact[COLUMN],
                              made[0][0] > pos))
                add_edge(Edge(pos, into[0], label, into[1], 1, pos > into[0], "drops",
                              into[1]))
                into = made[0]
        if into is None or into[2] != RENAME:
            return False
        at_pos, at_line = into[0], into[1]
        for old in into[3][NAMES]:
            last = None
            for e in events.get((kind, f"{old}.{column}")) or ():
                if e[0] > at_pos or (e[0] == at_pos and e[1] > at_line):
                    break
                last = e
            if last is not None:
                if last[2] == DROP:
                    return False
                if last[0] != pos:
                    add_edge(Edge(last[0], pos, label, fact[LINE], fact[COLUMN], last[0] > pos))
                if hop == 0 and last[0] != at_pos:  # (it came with the table)
                    add_edge(Edge(last[0], at_pos, label_of(f"{old}.{column}"), at_line, 1,
                                  last[0] > at_pos))
                return True
        makers = {e[0]: f"{old}.{column}" for old in into[3][NAMES]
                  for e in events.get((kind, f"{old}.{column}")) or ()
                  if e[2] != DROP and e[0] not in (pos, at_pos)}
        if hop == 0 and len(makers) == 1:
            # no file makes the member before the rename in reading order, and one other
            # file makes it under the old name: a misordered history, where that file
            # runs before the rename (the member came with the table)
            maker, old_name = makers.popitem()
            add_edge(Edge(maker, at_pos, label_of(old_name), at_line, 1, maker > at_pos))
            add_edge(Edge(maker, pos, label, fact[LINE], fact[COLUMN], maker > pos))
            return True
        table = into[3][NAMES][0]
    return False



def choose_provider(fact: Fact, events: dict[tuple[str, str], list[Event]]) -> \
        tuple[str | None, list[Event] | None]:
    kinds = (fact[KIND], "relation") if fact[KIND] == "type" else (fact[KIND],)
    for kind in kinds:
        for name in fact[NAMES]:
            evs = events.get((kind, name))
            if evs and (evs[0][2] != DROP or any(e[2] != DROP for e in evs)):
                return name, evs
    return None, None



def bind_columns(pos: int, column_refs: Sequence[Fact],
             events: dict[tuple[str, str], list[Event]],
             result: Resolution, is_known: Callable[[str], bool],
             default_schema: str) -> None:
    """Column references (``column_refs``: the file's distinct plain ones that the file
    does not provide itself) with no provider of the column: report them when the table
    is created in this directory by a plain CREATE TABLE that does not list the column."""
    for fact in column_refs:
        for n in fact[NAMES]:
            if events.get(("column", n)):
                break
        else:
            _unprovided_column(pos, fact, events, result, is_known, default_schema)



def _unprovided_column(pos: int, fact: Fact, events: dict[tuple[str, str], list[Event]],
                       result: Resolution, is_known: Callable[[str], bool],
                       default_schema: str) -> None:
    """A plain column reference no file provides: report it when its table is created
    here by a plain CREATE TABLE that does not list the column."""
    for name in fact[NAMES]:
        table = name.rsplit(".", 1)[0]
        evs = events.get(("relation", table))
        if not evs:
            continue
        providers = [e for e in evs if e[2] != DROP]
        if not providers:
            break
        if any(e[3][OPEN] or e[2] == RENAME or e[3][DISPLAY] != "table" for e in providers):
            break
        if is_known(name):
            break
        column = name.rsplit(".", 1)[1]
        result.missing.append(Missing(
            pos, f'column "{column}" of {object_label("table", table, default_schema)}',
            fact[LINE], fact[COLUMN],
            "No migration adds this column; add it (ALTER TABLE … ADD COLUMN) in an "
            "earlier file, or fix the name."))
        break



def added_to_old_table(repeated: list[tuple[tuple[str, str], list[Event]]],
                        events: dict[tuple[str, str], list[Event]],
                        add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """``ADD COLUMN c`` sorting after a file that renames (or drops) table ``t`` away
    and makes ``t`` again with ``c``: on the new table it would fail ("column already
    exists"), so the adding file altered the old table and runs before that file (a
    forward dependency). Only in a history whose filename order fails already (the
    caller's business) and only for unguarded definitions: filename order never has
    such a pair in a history that applies."""
    for (kind, column), evs in repeated:
        if kind != "column":
            continue
        table = column.rpartition(".")[0]
        tables = events.get(("relation", table)) or []
        for made, added in itertools.pairwise(evs):
            if (made[2] == DROP or added[2] == DROP or made[0] == added[0]
                    or made[3][GUARDED] or added[3][GUARDED]):
                continue
            # the last event of the table up to the column's first definition: its
            # CREATE, right after its removal (a rename away or a drop)
            at = max((i for i, e in enumerate(tables) if (e[0], e[1]) <= (made[0], made[1])),
                     default=-1)
            if at < 1 or tables[at][2] != CREATE or tables[at - 1][2] != DROP:
                continue
            if any((made[0], made[1]) < (e[0], e[1]) < (added[0], added[1])
                   for e in tables[at + 1:]):
                continue  # made again in between: the column is added to that table
            removed = tables[at - 1][0]
            if removed != added[0]:
                add_edge(Edge(added[0], removed, object_label("table", table, default_schema),
                              tables[at - 1][1], 1, added[0] > removed, "drops",
                              tables[at - 1][1]))


def table_made_later(pos: int, fact: Fact, evs: list[Event], at: int,
                     analysis: FileAnalysis) -> Event | None:
    """For a statement adding columns to a relation whose definition before it (``evs[at]``)
    is a view or a materialized view (``ALTER TABLE … ADD COLUMN`` fails there: "… is not
    a table"): the next definition of the name that is a table (made or renamed into the
    name: tensorzero turns a materialized view into a table by ``CREATE TABLE … AS``, a
    drop and a rename), which the statement means; None when it adds no column, or no
    such table follows."""
    prefix = fact[NAMES][0] + "."
    if not any(f[ACTION] == CREATE and f[KIND] == "column" and f[NAMES][0].startswith(prefix)
               for f in statement_facts(analysis, fact[LINE])):
        return None
    return next((e for e in evs[at + 1:] if e[2] != DROP and e[0] != pos
                 and e[3][DISPLAY] == "table"), None)
