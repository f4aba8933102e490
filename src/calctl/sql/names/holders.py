"""Which definition an object made with a type or over a table means, when the type or
table is defined, dropped and defined again.

PostgreSQL refuses ``DROP TYPE t`` (without ``CASCADE``) while a column is of type ``t``,
and ``DROP TABLE t`` while another table's foreign key references ``t``. Such a holder
(a column made with ``t``, a foreign key over ``t``) that no file drops, or drops the
table of, before ``t`` is dropped (nor retypes, for a column) cannot be of that
definition of ``t``: it is of the definition made after that drop.
Filename order says which definition comes first; where it binds such a holder to one
that is dropped later, the holder belongs to the next one instead. In a history whose
filename order applies this never happens (the drop would fail), so it only changes
plans of misordered histories. ``DROP … CASCADE`` removes the holders with it: after
one, a holder may be of either definition, and filename order stands.
"""

from __future__ import annotations

from calctl.sql.facts import (
    ACTION,
    DROP,
    KIND,
    LINE,
    NAMES,
    OPEN,
    PROVIDING,
    Fact,
    FileAnalysis,
)
from calctl.sql.names.model import Event, statement_facts


def surviving_definition(pos: int, fact: Fact, evs: list[Event], at: int,
                         analysis: FileAnalysis,
                         events: dict[tuple[str, str], list[Event]],
                         retyped: set[str]) -> Event | None:
    """The definition of a type or table (``evs``, its events) a use at ``pos`` means
    instead of ``evs[at]``, the one filename order gave: the next definition after the
    drop of ``evs[at]``, when the use makes a column (a foreign key) that stays to the
    end. None to keep it."""
    drop = next((i for i in range(at + 1, len(evs))
                 if evs[i][2] == DROP and evs[i][3][ACTION] == DROP), None)
    if drop is None or evs[drop][0] == pos or evs[drop][3][OPEN]:
        return None  # (DROP … CASCADE removes the holder with it)
    after = next((e for e in evs[drop + 1:] if e[2] != DROP), None)
    if after is None or after[0] == pos:
        return None
    gone = (evs[drop][0], evs[drop][1])
    if fact[KIND] == "type":
        columns = _made(analysis, fact[LINE], "column")
        if not columns:
            return None
        for column in columns:
            if column in retyped or _dropped(events, ("column", column), gone) \
                    or _dropped(events, ("relation", column.rpartition(".")[0]), gone):
                return None
        return after
    table = evs[at][3][NAMES][0]
    keys = [name for name in _made(analysis, fact[LINE], "constraint")
            if name.rpartition(".")[0] != table]
    if not keys:
        return None
    for key in keys:
        if _dropped(events, ("constraint", key), gone) \
                or _dropped(events, ("relation", key.rpartition(".")[0]), gone):
            return None
    return after


def _dropped(events: dict[tuple[str, str], list[Event]], key: tuple[str, str],
             before: tuple[int, int]) -> bool:
    """Whether a file drops ``key`` before the point ``before`` (position, line)."""
    return any(e[2] == DROP and (e[0], e[1]) < before for e in events.get(key) or ())


def _made(analysis: FileAnalysis, line: int, kind: str) -> list[str]:
    """The columns (constraints) the statement holding ``line`` makes: those made on that
    line, else every one it makes."""
    made = [(f[NAMES][0], f[LINE]) for f in statement_facts(analysis, line)
            if f[ACTION] in PROVIDING and f[KIND] == kind]
    same = [name for name, at in made if at == line]
    return same or [name for name, _ in made]
