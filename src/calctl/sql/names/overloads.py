"""Function overloads: when a use of one (``DROP FUNCTION f(int4)``) stands on its own.

The analyser knows a function's overload (``schema.f(int4,text[])``) only when a
``CREATE FUNCTION`` names plain argument types. A definition reached another way — an
``ALTER FUNCTION … RENAME TO f``, arguments written ``t.col%TYPE``, an argument type
renamed since — has an overload the analysis cannot name, and a drop by arguments may
be of that one. Such a drop then needs the function by name, as before overloads were
known. It binds to its overload when a file before it makes that overload and nothing
since dropped or renamed the function by name; and to a later file's (a misordered
history, CAL001) only when every definition of the name has a known overload and the
arguments are all built-in types (a type of the history may have been renamed into
that name).
"""

from __future__ import annotations

from collections.abc import Sequence

from calctl.sql import catalog
from calctl.sql.facts import DROP
from calctl.sql.names.model import Event


class Overloads:
    """What the whole directory says of its functions' overloads (made once; a plain
    class: a dataclass costs its creation at import, on every cold run)."""

    __slots__ = ("by_arguments", "unknown")

    def __init__(self, unknown: set[str], by_arguments: set[tuple[int, int, str]]) -> None:
        self.unknown = unknown  # names with a definition whose overload is not known
        self.by_arguments = by_arguments  # (file, line, name) of the drops by arguments

    @classmethod
    def of(cls, events: dict[tuple[str, str], list[Event]]) -> Overloads:
        known: set[tuple[int, int, str]] = set()
        by_arguments: set[tuple[int, int, str]] = set()
        for (kind, ident), evs in events.items():
            if kind == "overload":
                name = ident.partition("(")[0]
                for e in evs:
                    (by_arguments if e[2] == DROP else known).add((e[0], e[1], name))
        unknown = {name for (kind, name), evs in events.items() if kind == "function"
                   for e in evs if e[2] != DROP and (e[0], e[1], name) not in known}
        return cls(unknown, by_arguments)

    def by_name(self, chosen: str | None, evs: Sequence[Event] | None, pos: int,
                events: dict[tuple[str, str], list[Event]]) -> bool:
        """Whether a use at file ``pos`` of the overload ``chosen`` (its events ``evs``)
        is a use of the function's name."""
        if chosen is None or evs is None:
            return True  # no file makes it
        name, _, arguments = chosen.partition("(")
        made = [(e[0], e[1]) for e in evs if e[0] < pos and e[2] != DROP]
        if made:
            # gone by name since (DROP FUNCTION f, RENAME TO): the name tells
            last = max(made)
            return any(last < (e[0], e[1]) and e[0] < pos and e[2] == DROP
                       and (e[0], e[1], name) not in self.by_arguments
                       for e in events.get(("function", name)) or ())
        return name in self.unknown or not all(
            t.removesuffix("[]") in catalog.TYPES for t in arguments[:-1].split(",") if t)
