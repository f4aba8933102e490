"""A guarded drop before a creator that sorts too late: the creator runs first.

In a misordered history a file that creates an object may sort after a file that
drops it with ``IF EXISTS`` (``DROP TRIGGER IF EXISTS t``, ``DROP COLUMN IF EXISTS c``):
filename order makes that drop a no-op and keeps the object, while the history as
written dropped it. When the creator must run earlier anyway (it sorts after a file
that needs it) and nothing after the drop uses what it creates there, the creator is
placed before the drop: the drop then removes the object, as it was written to. That
pair of files keeps filename order when another file uses the object as the creator
makes it after the drop (made again on purpose) or at all when it runs, or when the
creator makes something with it that the dropping file leaves in place (a trigger
running the function, a view over the column: the drop would fail).

A soft edge (``precedes``): it gives way in a cycle, and only a creator that moves
anyway has one, so an intact history (nothing moves) is never changed by it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence

from calctl.sql.facts import (
    ACTION,
    CREATE,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    REF,
    FileAnalysis,
)
from calctl.sql.names.columns import made_with
from calctl.sql.names.model import Edge, Event, Uses, object_label


def drops_before_late_creators(analyses: Sequence[FileAnalysis],
                               events: dict[tuple[str, str], list[Event]], uses: Uses,
                               edges: Iterable[Edge], add_edge: Callable[[Edge], None],
                               default_schema: str) -> set[tuple[int, int]]:
    """Add ``creator → dropping file`` for each guarded drop whose object's next event
    is a definition by a later-sorting file that moves (see the module); returns those
    (creator, dropping file) pairs. A definition that would run while an earlier one
    still exists must be idempotent (``IF NOT EXISTS``, ``OR REPLACE``)."""
    moving = {e.provider for e in edges if e.forward and e.kind == "uses"}
    if not moving:
        return set()
    pairs: dict[tuple[int, int], Edge] = {}
    vetoed: set[tuple[int, int]] = set()
    for (kind, name), evs in events.items():
        for at, ((dropper, line, action, fact), after) in enumerate(itertools.pairwise(evs)):
            creator = after[0]
            if (action != DROP or fact[ACTION] != DROP or not fact[GUARDED]
                    or after[2] == DROP or creator <= dropper or creator not in moving):
                continue
            if at and evs[at - 1][2] != DROP and after[2] == CREATE \
                    and not after[3][GUARDED]:
                continue  # made while it still exists: "already exists"
            bound = uses.get((kind, name, creator), ((), []))[1]
            if any(user != creator and (user > dropper or use[ACTION] == REF)
                   for user, _, use in bound) \
                    or _made_with_it(analyses[creator], kind, name, after[1],
                                     analyses[dropper]):
                # used after the drop (made again on purpose), or something made with it
                # would outlive the drop and make it fail
                vetoed.add((creator, dropper))
            pairs.setdefault((creator, dropper), Edge(
                creator, dropper, object_label(fact[DISPLAY], name, default_schema), line, 1,
                True, "precedes", line))
    for pair, edge in pairs.items():
        if pair not in vetoed:
            add_edge(edge)
    return set(pairs) - vetoed


def _made_with_it(creator: FileAnalysis, kind: str, name: str, since: int,
                  dropping: FileAnalysis) -> bool:
    """Whether the creator's file uses the object, once made, in a statement making
    something the dropping file does not drop too (a trigger running the function, a
    view over the column, a key to the table, a column of the type): with the creator
    first, the guarded drop would fail ("other objects depend on it")."""
    # a function's uses name it without its arguments
    kind, name = ("function", name.partition("(")[0]) if kind == "overload" else (kind, name)
    dropped = {(f[KIND], n) for f in dropping.facts if f[ACTION] == DROP for n in f[NAMES]}
    spans = list(creator.spans)
    return any(made not in dropped
               for fact in creator.facts
               if fact[ACTION] == REF and fact[KIND] == kind and fact[LINE] >= since
               and name in fact[NAMES]
               for made in ((k, n) for k, n, _, _ in made_with(creator, spans, fact[LINE])))
