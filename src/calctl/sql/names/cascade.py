"""What a drop takes with it besides its object: ``DROP TABLE … CASCADE`` the foreign
keys of other tables that reference the table, ``DROP COLUMN`` the foreign keys made
over that column.

A file dropping such a foreign key by name (``ALTER TABLE t DROP CONSTRAINT t_x_fkey``,
as Prisma writes before dropping ``t``) fails once the cascade has run ("constraint …
does not exist"), so it runs before the cascading drop — even where that drop is
guarded (``DROP TABLE IF EXISTS x CASCADE``: a clean-up written long after, which
nothing else holds in place in a misordered history). Only for a foreign key one file
makes, dropped plainly (``IF EXISTS`` may run after), over a table never renamed away
(the key follows the table to its new name) and made once — or, where the table is
made again, whose cascading drop sorts after the key's creator with no drop of the
table between them (else the cascade removes another definition than the key's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from calctl.sql.facts import (
    ACTION,
    COLUMN,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    PROVIDING,
    REF,
    RENAME,
    Fact,
    FileAnalysis,
)
from calctl.sql.names.model import Edge, Event, object_label, statement_facts


def key_removal_edges(linked: Sequence[tuple[int, Fact]],
                      cascades: Sequence[tuple[int, Fact]], analyses: Sequence[FileAnalysis],
                      events: dict[tuple[str, str], list[Event]],
                      add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """A ``drops`` edge from each file dropping (plainly) a foreign key by name to each
    file whose drop takes the key with it: a ``DROP TABLE … CASCADE`` of the table the
    key references (``cascades``: (file, drop fact)), or a ``DROP COLUMN`` of one of the
    key's own columns (webstudio's Prisma history: ``DROP COLUMN "userId"`` before
    ``DROP CONSTRAINT "Project_userId_fkey"``). ``linked``: the drops and renames of
    constraints."""
    cascaded: dict[str, list[tuple[int, int]]] = {}
    for pos, fact in cascades:
        table = fact[NAMES][0]
        if not any(e[2] == DROP and e[3][ACTION] == RENAME
                   for e in events.get(("relation", table)) or ()):
            cascaded.setdefault(table, []).append((pos, fact[LINE]))
    keys = {fact[NAMES][0] for _, fact in linked
            if fact[KIND] == "constraint" and fact[ACTION] == DROP and not fact[GUARDED]}
    for key in keys:
        evs = events.get(("constraint", key)) or []
        made = [e for e in evs if e[2] != DROP]
        if len(made) != 1:
            continue
        creator, analysis, fact = made[0][0], analyses[made[0][0]], made[0][3]
        removals: list[tuple[int, int]] = []  # (file, line) of the drops taking the key
        referenced = referenced_table(analysis, fact) if cascaded else None
        if referenced is not None and referenced in cascaded:
            table_events = events.get(("relation", referenced)) or []
            table_drops = [e for e in table_events if e[2] == DROP]
            removals += [(pos, line) for pos, line in cascaded[referenced]
                         if _of_key(creator, pos, table_events, table_drops)]
        for column in own_columns(analysis, fact, key):
            column_events = events.get(("column", column)) or []
            column_drops = [e for e in column_events if e[2] == DROP and e[3][ACTION] == DROP]
            removals += [(e[0], e[1]) for e in column_drops
                         if _of_key(creator, e[0], column_events, column_drops)]
        label = object_label("constraint", key, default_schema)
        for pos, line in removals:
            for e in evs:
                if e[2] == DROP and e[3][ACTION] == DROP and not e[3][GUARDED] and e[0] != pos:
                    add_edge(Edge(e[0], pos, label, e[1], 1, e[0] > pos, "drops", line))


def _of_key(creator: int, pos: int, object_events: list[Event], drops: list[Event]) -> bool:
    """Whether the drop in file ``pos`` removes the definition of a table (column) the
    key made in file ``creator`` is over: one made once, or a drop sorting after the
    key's creator with no drop of it between them (else it may be another definition)."""
    if sum(e[2] != DROP for e in object_events) == 1:
        return True
    return creator <= pos and not any(creator < e[0] < pos for e in drops)


def own_columns(analysis: FileAnalysis, key: Fact, identity: str) -> set[str]:
    """The columns of its own table a foreign key is made over: those its statement
    names at the key's own place (``FOREIGN KEY (a, b)``)."""
    table = identity.rpartition(".")[0] + "."
    return {f[NAMES][0] for f in statement_facts(analysis, key[LINE])
            if f[KIND] == "column" and f[ACTION] == REF and f[LINE] == key[LINE]
            and f[COLUMN] == key[COLUMN] and f[NAMES][0].startswith(table)}


def referenced_table(analysis: FileAnalysis, key: Fact) -> str | None:
    """The table the foreign key made by ``key`` references: the first table its
    statement uses after the key's own place, before the next constraint it makes
    (``CONSTRAINT a FOREIGN KEY (x) REFERENCES t (id), CONSTRAINT b …``)."""
    at = (key[LINE], key[COLUMN])
    after = sorted((f for f in statement_facts(analysis, key[LINE])
                    if (f[LINE], f[COLUMN]) > at
                    and ((f[KIND] == "constraint" and f[ACTION] in PROVIDING)
                         or (f[KIND] == "relation" and f[ACTION] == REF))),
                   key=lambda f: (f[LINE], f[COLUMN]))
    first = after[0] if after else None
    return first[NAMES][0] if first is not None and first[KIND] == "relation" else None


def key_users_before_column_drops(linked: Sequence[tuple[int, Fact]],
                                  analyses: Sequence[FileAnalysis],
                                  events: dict[tuple[str, str], list[Event]],
                                  edges: Sequence[Edge], default_schema: str) -> list[Edge]:
    """For a foreign key made more than once (a file drops it and makes it again), the
    ``drops`` edges that keep each user of one definition of the key before the ``DROP
    COLUMN`` that takes that definition with its column: the definition's file uses the
    column before that drop (a ``drops`` edge binds them), so the files using the key it
    made or dropping it after such a use — by name, or to make it again, whose new
    definition is over the same column and is followed the same way — run before that
    drop too ("constraint … does not exist" after it). A key made once:
    :func:`key_removal_edges`. Only keys some file drops by name (``linked``)."""
    keys = {fact[NAMES][0] for _, fact in linked
            if fact[KIND] == "constraint" and fact[ACTION] == DROP}
    if not keys:
        return []
    by_label: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge.kind in ("uses", "drops"):
            by_label.setdefault(edge.object, []).append(edge)
    added: list[Edge] = []
    for key in sorted(keys):
        made = [e for e in events.get(("constraint", key)) or () if e[2] != DROP]
        if len(made) < 2:
            continue
        label = object_label("constraint", key, default_schema)
        users: dict[int, list[Edge]] = {}  # (a drops edge: its user drops what it used)
        for edge in by_label.get(label, ()):
            users.setdefault(edge.provider, []).append(edge)
        for maker, _, _, fact in made:
            for column in own_columns(analyses[maker], fact, key):
                column_drops = {e[0] for e in events.get(("column", column)) or ()
                                if e[2] == DROP and e[3][ACTION] == DROP}
                for taken in by_label.get(object_label("column", column, default_schema), ()):
                    if taken.kind != "drops" or taken.provider != maker \
                            or taken.user not in column_drops:
                        continue
                    todo, seen = [maker], {maker, taken.user}
                    while todo:
                        for use in users.get(todo.pop(), ()):
                            if use.user not in seen:
                                seen.add(use.user)
                                added.append(Edge(use.user, taken.user, label, use.line,
                                                  use.column, use.user > taken.user, "drops",
                                                  taken.drop_line))
                                if any(e[0] == use.user and column in own_columns(
                                        analyses[e[0]], e[3], key) for e in made):
                                    todo.append(use.user)  # (made again over the column)
    return added
