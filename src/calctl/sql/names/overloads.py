"""Function overloads: when a use of one (``DROP FUNCTION f(int4)``) stands on its own.

The analyser knows a function's overload (``schema.f(int4,text[])``) only when a
``CREATE FUNCTION`` names plain argument types. A definition reached another way — an
``ALTER FUNCTION … RENAME TO f``, arguments written ``t.col%TYPE``, a type spelled
otherwise — has an overload the analysis cannot name, and a drop by arguments may be
of that one. Such a drop then needs the function by name, as before overloads were
known; it binds to its overload only when that overload is made before it, or when
every definition of the name has a known overload (then a later one is the only
candidate: a misordered history, CAL001).
"""

from __future__ import annotations

from collections.abc import Sequence

from calctl.sql.facts import DROP
from calctl.sql.names.model import Event


def unknown_overloads(events: dict[tuple[str, str], list[Event]]) -> set[str]:
    """Functions with a definition whose overload the analysis does not know."""
    known = {(e[0], e[1], ident.partition("(")[0])
             for (kind, ident), evs in events.items() if kind == "overload"
             for e in evs if e[2] != DROP}
    return {name for (kind, name), evs in events.items() if kind == "function"
            for e in evs if e[2] != DROP and (e[0], e[1], name) not in known}


def by_name(names: Sequence[str], evs: list[Event] | None, pos: int,
            unknown: set[str]) -> bool:
    """Whether a use of the overload ``names`` at file ``pos`` is a use of the name."""
    if evs is None:
        return True  # no file makes it
    if any(e[0] < pos and e[2] != DROP for e in evs):
        return False  # made before: that definition
    return any(name.partition("(")[0] in unknown for name in names)
