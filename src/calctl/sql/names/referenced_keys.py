"""A foreign key holds the unique index it references: it goes before that index changes.

Prisma makes a table's primary key composite by dropping it and adding it again over
more columns in one statement (``ALTER TABLE "Build" DROP CONSTRAINT "Build_pkey", ADD
CONSTRAINT "Build_pkey" PRIMARY KEY ("id", "projectId")``). PostgreSQL refuses the drop
while a foreign key references the old key's columns ("cannot drop constraint Build_pkey
… because other objects depend on it"), and a foreign key made after it over the old
columns finds no key to reference ("there is no unique constraint matching given
keys"). Read by name, neither the key nor the file removing it depends on that file.

So, in a misordered history, for a key (primary or unique) a file drops and makes again
over other columns: each foreign key made once that references the key's table over the
columns of another definition of the key is made and removed before that file — the
files making and removing it run first (removing: its one plain ``DROP CONSTRAINT`` by
name, which needs the key made, else the one plain drop of its table, else the one plain
drop of one of its own columns; a foreign key with no such removal is left alone: some
other definition may hold it). A foreign key made once over the new columns is made
after that file — unless another key of the table is over those columns (drizzle adds a
`UNIQUE` over the new id before it swaps the primary key to it, and moves the foreign
keys to the new id in between: they need the unique key, not the swap).
"""

from __future__ import annotations

from collections.abc import Sequence

from calctl.sql.facts import (
    ACTION,
    COLUMN,
    CREATE,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    NEW,
    OPEN,
    REF,
    Fact,
    FileAnalysis,
)
from calctl.sql.names.cascade import own_columns, referenced_table
from calctl.sql.names.model import Edge, Event, object_label, statement_facts


def keys_before_key_changes(linked: Sequence[tuple[int, Fact]],
                            analyses: Sequence[FileAnalysis],
                            events: dict[tuple[str, str], list[Event]],
                            default_schema: str) -> list[Edge]:
    """The ``drops`` edges of the module's rule: from each file removing such a foreign
    key to the file changing the key it references. ``linked``: the drops and renames of
    constraints."""
    # table → (file, line, old columns, new columns)
    changes: dict[str, list[tuple[int, int, frozenset[str], frozenset[str]]]] = {}
    for pos, fact in linked:
        if fact[KIND] != "constraint" or fact[ACTION] != DROP or fact[GUARDED] or fact[OPEN]:
            continue
        key = fact[NAMES][0]
        indexes = [(e[0], frozenset(own_columns(analyses[e[0]], e[3], key)))
                   for e in events.get(("constraint", key)) or ()
                   if e[2] != DROP and e[3][NEW] == key]
        again = [cols for at, cols in indexes if at == pos]
        before = {cols for at, cols in indexes if at != pos} - set(again)
        if len(again) == 1 and len(before) == 1:
            changes.setdefault(key.rpartition(".")[0], []).append(
                (pos, fact[LINE], next(iter(before)), again[0]))
    if not changes:
        return []
    others = _other_keys(changes, events, analyses)
    added: list[Edge] = []
    for (kind, name), evs in events.items():
        if kind != "constraint":
            continue
        made = [e for e in evs if e[2] == CREATE and not e[3][NEW]]
        if len(made) != 1 or len(made) + sum(e[2] == DROP for e in evs) != len(evs):
            continue
        maker, analysis, fact = made[0][0], analyses[made[0][0]], made[0][3]
        table = referenced_table(analysis, fact)
        if table not in changes:
            continue
        columns = _referenced_columns(analysis, fact, table)
        label = object_label("constraint", name, default_schema)
        for pos, line, old, new in changes[table]:
            if columns == new and pos != maker and (table, new) not in others:
                # (it needs the changed key: no other key is over its columns)
                added.append(Edge(pos, maker, label, fact[LINE], 1, pos > maker))
            if columns != old or pos == maker:
                continue
            removal = _removal(evs, events, analysis, fact, name)
            if removal is None or removal[0] == pos:
                continue
            added.append(Edge(removal[0], pos, label, removal[1], 1, removal[0] > pos,
                              "drops", line))
            added.append(Edge(maker, pos, label, line, 1, maker > pos, "drops", line))
            if removal[0] != maker and any(e[:2] == removal for e in evs):
                # (the drop by name needs the key: bound weakly by the names where the
                # key's table is made by a later file)
                added.append(Edge(maker, removal[0], label, removal[1], 1,
                                  maker > removal[0]))
    return added


def _other_keys(changes: dict[str, list[tuple[int, int, frozenset[str], frozenset[str]]]],
                events: dict[tuple[str, str], list[Event]],
                analyses: Sequence[FileAnalysis]) -> set[tuple[str, frozenset[str]]]:
    """(table, columns) of the keys (primary, unique) some file makes over those columns
    of a table in ``changes``, under a name that is not a changed key's."""
    found: set[tuple[str, frozenset[str]]] = set()
    for (kind, name), evs in events.items():
        table = name.rpartition(".")[0]
        if kind != "constraint" or table not in changes:
            continue
        for e in evs:
            if e[2] != DROP and e[3][NEW] == name:
                columns = frozenset(own_columns(analyses[e[0]], e[3], name))
                if columns and not any(e[0] == c[0] and columns == c[3]
                                       for c in changes[table]):
                    found.add((table, columns))
    return found


def _referenced_columns(analysis: FileAnalysis, key: Fact, table: str) -> frozenset[str]:
    """The columns of ``table`` a foreign key references: those named at the place of the
    first reference to the table after the key's own place."""
    at = (key[LINE], key[COLUMN])
    facts = statement_facts(analysis, key[LINE])
    ref = min(((f[LINE], f[COLUMN]) for f in facts if f[KIND] == "relation"
               and f[ACTION] == REF and f[NAMES][0] == table and (f[LINE], f[COLUMN]) > at),
              default=None)
    return frozenset(f[NAMES][0] for f in facts if f[KIND] == "column" and f[ACTION] == REF
                     and (f[LINE], f[COLUMN]) == ref and f[NAMES][0].startswith(table + "."))


def _removal(evs: list[Event], events: dict[tuple[str, str], list[Event]],
             analysis: FileAnalysis, key: Fact, name: str) -> tuple[int, int] | None:
    """(file, line) of the first removal of a foreign key made once: its one plain drop by
    name, else the one plain drop of its table, else of one of its own columns."""
    for candidates in (
            evs,
            events.get(("relation", name.rpartition(".")[0])) or (),
            [e for column in sorted(own_columns(analysis, key, name))
             for e in events.get(("column", column)) or ()]):
        drops = [e for e in candidates if e[2] == DROP and e[3][ACTION] == DROP
                 and not e[3][GUARDED]]
        if drops:
            return (drops[0][0], drops[0][1]) if len(drops) == 1 else None
    return None
