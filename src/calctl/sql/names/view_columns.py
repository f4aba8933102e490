"""A view holds the columns it reads: their drops run before it is made.

PostgreSQL refuses ``ALTER TABLE t DROP COLUMN c`` while a view reads ``c`` ("cannot drop
column c of table t because other objects depend on it"), and a view made with ``SELECT
*`` (or ``t.*``) reads every column ``t`` has when it is made. Read by name, a view's use
of ``c`` binds to whichever adder of ``c`` sorts before it, and must run before the
drop that follows: in a misordered history the plan then makes the view before the drop,
which then fails.

For a view that is never dropped (but by a file that makes it again at once, ``DROP VIEW
IF EXISTS v; CREATE VIEW v``) nor renamed, made only where it surely runs (not in a DO
block's branch), in a history with no ``DROP … CASCADE`` (which takes views along,
unseen):

* a column every definition of the view names, with one adder more than drops (it is
  there at the end): each definition runs after every drop and every adder of the
  column — a view made earlier would hold a column a later drop needs gone;
* a column of the view's table (a table made once, by a plain ``CREATE TABLE``) made
  once, by that statement or an ``ADD COLUMN``, and dropped once, when every
  definition reads the table with ``*``: each definition runs after that drop. (A
  view made before the column was added would hold it neither: run after the drop
  it is right all the same, unless some other need keeps it earlier, and then this
  edge gives way.)

The edges are ``keeps`` (soft: they give way on a cycle), and only in a misordered
history (filename order fails already), as the other rules that read what the SQL does
not say outright: a view may also go by SQL the analysis does not see (``EXECUTE 'DROP
VIEW v'``, ``DROP OWNED``), or be made under a ``SET LOCAL search_path``. The names' wait
of the view for the drop (``drops``) is taken back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import reduce

from calctl.sql.facts import (
    ACTION,
    CREATE,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    NAMES,
    OPEN,
    REF,
    RENAME,
    REPLACE,
    STAR,
    WEAK,
    FileAnalysis,
)
from calctl.sql.names.model import (
    Edge,
    Event,
    made_again_after,
    object_label,
    statement_facts,
)


def views_after_column_drops(views: Iterable[tuple[str, str]],
                             analyses: Sequence[FileAnalysis],
                             events: dict[tuple[str, str], list[Event]],
                             default_schema: str
                             ) -> tuple[set[tuple[int, int, str]], list[Edge]]:
    """The names' edges (view's file, drop's file, column) the module's rule takes back,
    and the edges it adds."""
    wrong: set[tuple[int, int, str]] = set()
    added: list[Edge] = []
    for view_key in views:
        evs = events[view_key]
        made = [e for e in evs if e[2] in (CREATE, REPLACE)]
        if len(made) + sum(e[2] == DROP for e in evs) != len(evs) or any(
                e[3][DISPLAY] != "view" or e[3][ACTION] == RENAME for e in evs) or any(
                e[3][GUARDED] for e in made) or any(
                e[2] == DROP and not made_again_after(e, evs) for e in evs):
            continue
        read = [statement_facts(analyses[e[0]], e[1]) for e in made]
        named = reduce(set.intersection, ({f[NAMES][0] for f in facts if f[ACTION] == REF
                                           and f[KIND] == "column"} for facts in read))
        starred = reduce(set.intersection, ({f[NAMES][0] for f in facts if f[ACTION] == WEAK
                                             and f[KIND] == STAR} for facts in read))
        files = {e[0] for e in made}
        for column in sorted(named):
            col_evs = events.get(("column", column), [])
            drops = [e for e in col_evs if e[2] == DROP]
            if not drops or len(col_evs) != 2 * len(drops) + 1 or any(
                    e[3][OPEN] or e[3][ACTION] != DROP for e in drops) or any(
                    e[3][GUARDED] for e in col_evs):
                continue  # (a column renamed, dropped with CASCADE, or made or dropped
                # only if missing or there: left alone)
            label = object_label("column", column, default_schema)
            for e in col_evs:
                if e[0] in files:
                    continue
                for view in made:
                    added.append(Edge(e[0], view[0], label, view[1], 1, e[0] > view[0], "keeps",
                                  view[1]))
                    if e[2] == DROP:
                        wrong.add((view[0], e[0], label))
        for table in sorted(starred):
            for column, drop in _columns_dropped_once(events, table):
                if drop[0] not in files:
                    label = object_label("column", column, default_schema)
                    for view in made:
                        added.append(Edge(drop[0], view[0], label, view[1], 1, drop[0] > view[0],
                                      "keeps", view[1]))
    return wrong, added


def _columns_dropped_once(events: dict[tuple[str, str], list[Event]],
                          table: str) -> list[tuple[str, Event]]:
    """(column, its drop) for each column of a table made once by a plain ``CREATE
    TABLE`` that one plain statement makes (that ``CREATE TABLE``, or an ``ADD COLUMN``)
    and one plain ``DROP COLUMN`` (no ``CASCADE``) removes."""
    made = events.get(("relation", table), [])
    if len(made) != 1 or made[0][2] != CREATE or made[0][3][OPEN] \
            or made[0][3][DISPLAY] != "table":
        return []
    out = []
    prefix = table + "."
    for (kind, name), evs in events.items():
        if kind != "column" or len(evs) != 2 or not name.startswith(prefix):
            continue
        adder, drop = evs if evs[1][2] == DROP else evs[::-1]  # (either may sort first)
        if adder[2] == CREATE and not adder[3][GUARDED] and drop[2] == DROP \
                and drop[3][ACTION] == DROP and not drop[3][OPEN] and not drop[3][GUARDED]:
            out.append((name, drop))
    return out
