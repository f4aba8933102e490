"""What name resolution produces: edges between files, missing objects, duplicate
creators, and the events (position, line, action, fact) it reasons over."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from calctl.sql.facts import (
    ACTION,
    COLUMN,
    DISPLAY,
    DROP,
    KIND,
    LINE,
    NAMES,
    REF,
    Fact,
    FileAnalysis,
)


class Edge(NamedTuple):
    """``user`` needs ``object`` (at ``line``), provided by file ``provider``."""

    provider: int
    user: int
    object: str       # "table users"
    line: int
    column: int
    forward: bool     # the provider sorts after the user in filename order
    # uses: ``user`` uses what ``provider`` creates; drops: ``provider`` uses what
    # ``user`` later drops or renames (so ``provider`` must run first); redefines (a
    # definition after an earlier one, or after its drop); keeps (an order PostgreSQL
    # needs between a dependent object and a change of what it depends on); frees
    # (``provider`` removes what was made with an object ``user`` drops); precedes
    # (``provider`` makes what ``user``'s guarded drop removes, see late_creators)
    kind: str = "uses"
    drop_line: int = 0  # drops: the line of the DROP/RENAME in file ``user``



# Edge kinds that only keep an order filename order suggests (they give way to the
# others in a cycle, see calctl.sql.graph.stable_order)
SOFT = frozenset({"redefines", "keeps", "precedes"})



# In resolve()'s ``avoid``: (definition, dropping file, DROPS_OF + object) says that file
# drops another definition of the object, so uses of this one need not run before it
DROPS_OF = "\0drops "


class Missing(NamedTuple):
    user: int
    object: str
    line: int
    column: int
    hint: str = ""



class Duplicate(NamedTuple):
    file: int
    other: int
    object: str
    line: int
    other_line: int



@dataclass
class Resolution:
    """What name resolution found: edges between files, missing objects, duplicates."""

    edges: list[Edge] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    # (files, user): a use that any of these files meets (idempotent creators of one
    # object, ``CREATE … IF NOT EXISTS``: files[0] is its edge's provider; the other
    # versions of a function a file drops by name and defines again: no edge)
    choices: list[tuple[tuple[int, ...], int]] = field(default_factory=list)



# (position, line, action, fact)
Event = tuple[int, int, str, Fact]
# (kind, identity, definition's file) → the events of the object and the uses (file,
# label, fact) that bound to that definition
Uses = dict[tuple[str, str, int], tuple[list[Event], list[tuple[int, str, Fact]]]]



def object_label(display: str, identity: str, default_schema: str) -> str:
    prefix = default_schema + "."
    name = identity[len(prefix):] if identity.startswith(prefix) else identity
    return f'{display} "{name}"'



def insert_event(events: dict[tuple[str, str], list[Event]], key: tuple[str, str],
            event: Event) -> None:
    bisect.insort(events.setdefault(key, []), event, key=lambda e: (e[0], e[1]))


class Reach:
    """Whether one file must run before another by a chain of edges ``provider → user``
    (searched once from each file asked about, again only after a need is added)."""

    def __init__(self, edges: Iterable[Edge]) -> None:
        self.after: dict[int, set[int]] = {}
        for edge in edges:
            self.after.setdefault(edge.provider, set()).add(edge.user)
        self.reached: dict[int, set[int]] = {}

    def add(self, a: int, b: int) -> None:
        """``a`` runs before ``b`` (a need told since)."""
        if a != b and b not in self.after.setdefault(a, set()):
            self.after[a].add(b)
            self.reached.clear()

    def __call__(self, a: int, b: int) -> bool:
        seen = self.reached.get(a)
        if seen is None:
            seen = set()
            todo = [a]
            while todo:
                for n in self.after.get(todo.pop(), ()):
                    if n not in seen:
                        seen.add(n)
                        todo.append(n)
            self.reached[a] = seen
        return b in seen


def made_again_after(drop: Event, evs: Sequence[Event]) -> bool:
    """Whether the file of ``drop`` makes the object again after it (``DROP VIEW IF
    EXISTS v; CREATE VIEW v``): a drop that leaves the object there."""
    return any(e[0] == drop[0] and e[1] > drop[1] and e[2] != DROP for e in evs)


def set_aside(edges: Iterable[Edge], unsure: set[str]) -> tuple[dict[str, list[Edge]], Reach]:
    """For a rule that decides the order of the events of some objects (``unsure``: their
    labels): the edges the names bound to each of them, and the reach of every other hard
    edge (what the rule decides by)."""
    bound: dict[str, list[Edge]] = {}
    others: list[Edge] = []
    for edge in edges:
        if edge.object in unsure:
            bound.setdefault(edge.object, []).append(edge)
        elif edge.kind not in SOFT:
            others.append(edge)
    return bound, Reach(others)


def table_of_index(analyses: Sequence[FileAnalysis], created: Event) -> str | None:
    """The table a ``CREATE INDEX`` names: the table read at the index's own place."""
    fact = created[3]
    for other in analyses[created[0]].facts:
        if other[LINE] == fact[LINE] and other[COLUMN] == fact[COLUMN] \
                and other[ACTION] == REF and other[KIND] == "relation" \
                and other[DISPLAY] == "table":
            return other[NAMES][0]
    return None


def statement_facts(analysis: FileAnalysis, line: int) -> list[Fact]:
    """The facts of the statement holding ``line`` (none when no statement does)."""
    span = next((s for s in analysis.spans if s.first <= line <= s.last), None)
    if span is None:
        return []
    return [f for f in analysis.facts if span.first <= f[LINE] <= span.last]


def tell(means: dict[tuple[str, int], int | None], key: tuple[str, int], meant: int) -> None:
    """Record that a file means the definition ``meant`` (of ``key``'s table); evidence
    for two definitions leaves it undecided (None)."""
    means[key] = meant if means.get(key, meant) == meant else None
