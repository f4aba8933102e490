"""Which definition a column made with a type means, when a type is defined, dropped and
defined again.

PostgreSQL refuses ``DROP TYPE t`` (without ``CASCADE``) while a column is of type ``t``.
A column made with ``t`` that no file ever drops, retypes, or drops the table of (it is
still there at the end of the history) cannot be of a definition of ``t`` that some file
drops: it is of the definition made after that drop. Filename order says which
definition comes first; where it binds such a column to one that is dropped later, the
column belongs to the next one instead. In a history whose filename order applies this
never happens (the drop would fail), so it only changes plans of misordered histories.
"""

from __future__ import annotations

from calctl.sql.facts import ACTION, DROP, KIND, LINE, NAMES, PROVIDING, Fact, FileAnalysis
from calctl.sql.names.model import Event


def surviving_definition(pos: int, fact: Fact, evs: list[Event], at: int,
                         analysis: FileAnalysis,
                         events: dict[tuple[str, str], list[Event]],
                         retyped: set[str]) -> Event | None:
    """The definition of a type (``evs``, its events) a use at ``pos`` means instead of
    ``evs[at]``, the one filename order gave: the next definition after the drop of
    ``evs[at]``, when the use makes a column that stays to the end. None to keep it."""
    drop = next((i for i in range(at + 1, len(evs))
                 if evs[i][2] == DROP and evs[i][3][ACTION] == DROP), None)
    if drop is None or evs[drop][0] == pos:
        return None
    after = next((e for e in evs[drop + 1:] if e[2] != DROP), None)
    if after is None or after[0] == pos:
        return None
    columns = _made_columns(analysis, fact[LINE])
    if not columns:
        return None
    for column in columns:
        if column in retyped or _dropped(events, ("column", column)) \
                or _dropped(events, ("relation", column.rpartition(".")[0])):
            return None
    return after


def _dropped(events: dict[tuple[str, str], list[Event]], key: tuple[str, str]) -> bool:
    return any(e[2] == DROP for e in events.get(key) or ())


def _made_columns(analysis: FileAnalysis, line: int) -> list[str]:
    """The columns the statement holding ``line`` makes: those made on that line, else
    every column it makes."""
    span = next((s for s in analysis.spans if s.first <= line <= s.last), None)
    if span is None:
        return []
    made = [(f[NAMES][0], f[LINE]) for f in analysis.facts
            if f[ACTION] in PROVIDING and f[KIND] == "column"
            and span.first <= f[LINE] <= span.last]
    same = [name for name, at in made if at == line]
    return same or [name for name, _ in made]
