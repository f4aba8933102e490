"""A guarded drop before a creator that sorts too late: the creator runs first.

In a misordered history a file that creates an object may sort after a file that
drops it with ``IF EXISTS`` (``DROP TRIGGER IF EXISTS t``, ``DROP COLUMN IF EXISTS c``):
filename order makes that drop a no-op and keeps the object, while the history as
written dropped it. When the creator must run earlier anyway (it sorts after a file
that needs it) and nothing after the drop uses what it creates there, the creator is
placed before the drop: the drop then removes the object, as it was written to. A use
of one of those objects by another file sorting after the drop says the opposite (the
file makes them again on purpose, after the drop): that pair of files keeps filename
order.

A soft edge (``precedes``): it gives way in a cycle, and only a creator that moves
anyway has one, so an intact history (nothing moves) is never changed by it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

from calctl.sql.facts import ACTION, CREATE, DISPLAY, DROP, GUARDED, Fact
from calctl.sql.names.model import Edge, Event, object_label

# (kind, identity, definition's file) → the files whose use binds to that definition
Uses = dict[tuple[str, str, int], tuple[list[Event], list[tuple[int, str, Fact]]]]


def drops_before_late_creators(events: dict[tuple[str, str], list[Event]], uses: Uses,
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
            if any(dropper < user != creator for user, _, _ in bound):
                vetoed.add((creator, dropper))  # used after the drop: made again on purpose
            pairs.setdefault((creator, dropper), Edge(
                creator, dropper, object_label(fact[DISPLAY], name, default_schema), line, 1,
                True, "precedes", line))
    for pair, edge in pairs.items():
        if pair not in vetoed:
            add_edge(edge)
    return set(pairs) - vetoed
