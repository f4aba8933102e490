"""A function's versions chained by drops by arguments: no drop by name falls inside.

Histories that change a function's signature drop the old version by its arguments and
define the new one in the same file (graphile-worker: ``DROP FUNCTION add_job(text,
json, text, timestamptz, int, text, int); CREATE FUNCTION add_job(…, flags text[])``),
file after file; later files drop it by name (``DROP FUNCTION add_job``) and define it
again. A drop by name removes whichever version exists: one between a version's
creation and that version's drop by arguments makes the latter fail ("function … does
not exist"), and before the function's first version it has nothing to drop. So when

- every definition of the function has a known overload (no ``RENAME TO``, no
  ``%TYPE`` argument: see :mod:`calctl.sql.names.overloads`),
- one plain ``CREATE FUNCTION`` is the first version (no drop of the name before it in
  its file but ``DROP FUNCTION IF EXISTS f``; a ``CREATE OR REPLACE`` may come after
  any version), and
- from it, each version is made by one file (others may only ``CREATE OR REPLACE`` it)
  and dropped by arguments by one other file, which makes the next version,

every file dropping the function by name (not ``IF EXISTS``) that makes no version of
the chain runs after the chain's last file. Resolution binds such a drop to the definition sorting
nearest before it, which in a history numbered at random can be a version inside the
chain. Applied only to a history filename order already fails (like
:func:`calctl.sql.names.providers.chain_providers`' exceptions): functions may also go
in ways the analysis does not see (``DROP SCHEMA … CASCADE``, ``EXECUTE``).
"""

from __future__ import annotations

from collections.abc import Callable

from calctl.sql.facts import ACTION, CREATE, DROP, GUARDED, REPLACE
from calctl.sql.names.model import Edge, Event, object_label


def after_versions(events: dict[tuple[str, str], list[Event]],
                   add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """Add an edge from the last file of each function's version chain to every file
    dropping the function by name outside it (see the module's documentation)."""
    idents: dict[str, list[tuple[str, list[Event]]]] = {}  # name → its overloads
    for (kind, ident), evs in events.items():
        if kind == "overload":
            idents.setdefault(ident.partition("(")[0], []).append((ident, evs))
    for name, named in idents.items():
        overloads = [o for _, o in named]
        evs = events.get(("function", name)) or []
        by_name = [e for e in evs if e[2] == DROP and not e[3][GUARDED]]
        if not by_name or not _all_known(evs, overloads):
            continue
        chain, makers = _chain(evs, overloads)
        if len(chain) < 2:
            continue
        last = chain[-1]
        # the version the drop removes (the name's label is taken by the "redefines"
        # edges, which a cycle may drop)
        made = [ident for ident, o in named
                if any(e[0] == last and e[2] != DROP for e in o)]
        label = object_label("function", made[0] if len(made) == 1 else name,
                             default_schema)
        for e in by_name:
            if e[0] not in chain and e[0] not in makers:
                add_edge(Edge(last, e[0], label, e[1], 1, last > e[0]))


def _all_known(evs: list[Event], overloads: list[list[Event]]) -> bool:
    """Whether every definition of the function is known by its arguments."""
    known = {(e[0], e[1]) for o in overloads for e in o if e[2] != DROP}
    return all((e[0], e[1]) in known for e in evs if e[2] != DROP)


def _chain(evs: list[Event], overloads: list[list[Event]]) -> tuple[list[int], set[int]]:
    """The files from the first version along drops by arguments (empty when there is
    no single first version), and every file making a version on the way."""
    by_arguments = {(e[0], e[1]) for o in overloads for e in o if e[2] == DROP}
    # (a DROP FUNCTION IF EXISTS f before it only makes the file repeatable)
    first = {e[0] for e in evs if e[2] != DROP and e[3][ACTION] == CREATE
             and not any(d[0] == e[0] and d[1] <= e[1] and d[2] == DROP and (
                 not d[3][GUARDED] or (d[0], d[1]) in by_arguments) for d in evs)}
    if len(first) != 1:
        return [], set()
    chain = [first.pop()]
    makers: set[int] = set()
    while True:
        cur = chain[-1]
        nexts = set()
        for o in overloads:
            made = [e for e in o if e[2] != DROP]
            # made by this file alone, or replaced after (CREATE OR REPLACE elsewhere)
            if any(e[0] == cur and e[3][ACTION] == CREATE for e in made) and all(
                    e[0] == cur or e[3][ACTION] == REPLACE for e in made):
                droppers = {e[0] for e in o if e[2] == DROP}
                if len(droppers) == 1 and cur not in droppers:
                    nexts |= droppers
                    makers.update(e[0] for e in made)
        if len(nexts) != 1 or next(iter(nexts)) in chain:
            return chain, makers
        chain.append(nexts.pop())
