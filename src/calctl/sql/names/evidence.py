"""What else tells which definition of a remade table a file means (see
:mod:`calctl.sql.names.definitions`, whose columns and constraints are the first
evidence): an index made with one definition and kept or not through a rename, the rows
a replaced function returns, a column read through a rename, and the views PostgreSQL
cannot write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from calctl.sql.facts import (
    ACTION,
    CREATE,
    DROP,
    KIND,
    NAMES,
    NEW,
    OPEN,
    REF,
    RENAME,
    REPLACE,
    WRITES,
    FileAnalysis,
)
from calctl.sql.names.model import Event, statement_facts, tell

_OPAQUE = "CAL010"  # the note on SQL the analysis cannot read (EXECUTE in a DO block)


def kept_index(evs: list[Event], removal: tuple[int, int] | None,
                events: dict[tuple[str, str], list[Event]]) -> bool:
    """Whether the definition ``removal`` (file, line) removes is renamed away and kept
    past that file: its indexes go with it under the new name, so a file dropping one
    need not run before the rename."""
    fact = next((e[3] for e in evs if (e[0], e[1]) == removal and e[2] == DROP), None)
    if removal is None or fact is None or fact[ACTION] != RENAME:
        return False
    return not any(e[0] == removal[0] and e[1] > removal[1] and e[2] == DROP
                   and e[3][ACTION] == DROP
                   for e in events.get(("relation", fact[NEW])) or ())


def replaced_rows(analyses: Sequence[FileAnalysis],
                   events: dict[tuple[str, str], list[Event]],
                   tables: Mapping[str, list[int]], typed: list[tuple[int, str, int]],
                   means: dict[tuple[str, int], int | None]) -> None:
    """``CREATE OR REPLACE FUNCTION`` keeps the function's return type ("cannot change
    return type of existing function"): a replacement returning a remade table's rows
    (the row type not among its arguments too), where one plain ``CREATE FUNCTION`` of
    that overload alone returns them too, means the definition that file means (in
    ``means``) — unless a file drops the function without making that overload again,
    or that file drops it before making it (``DROP TABLE … CASCADE`` or such a drop may
    end the function, and a replacement then makes it anew)."""
    for pos, table, line in typed:
        if table not in _returned_at(analyses[pos], line):
            continue
        if any(e[3][OPEN] for e in events[("relation", table)] if e[2] == DROP):
            continue
        made = _signature(analyses[pos], line, REPLACE)
        arguments = {a.removesuffix("[]") for a in made.partition("(")[2][:-1].split(",")} \
            if made is not None else set()
        if made is None or table.rpartition(".")[2] in arguments:
            continue  # (an argument's type: after a rename, another overload)
        evs = events.get(("overload", made)) or []
        plain = {e[0] for e in evs if e[3][ACTION] == CREATE}
        name = made.partition("(")[0]
        if any(e[2] == DROP and e[0] not in plain
               for e in events.get(("function", name)) or ()):
            continue
        naming = [x for x in plain if x != pos and any(
            table in _returned_at(analyses[x], e[1]) for e in evs if e[0] == x)]
        if len(naming) != 1:
            continue
        # (that file dropping the function before making it, the replacement may come
        # before that file; events keep a file's statements in their order)
        first = next((e for e in events.get(("function", name)) or ()
                      if e[0] == naming[0]), None)
        meant = means.get((table, naming[0]))
        if first is not None and first[2] != DROP and meant is not None:
            tell(means, (table, pos), meant)


def _signature(analysis: FileAnalysis, line: int, action: str) -> str | None:
    """The overload a statement holding ``line`` defines with ``action``, if any."""
    return next((f[NAMES][0] for f in statement_facts(analysis, line)
                 if f[KIND] == "overload" and f[ACTION] == action), None)


def _returned_at(analysis: FileAnalysis, line: int) -> set[str]:
    """The types the function a statement holding ``line`` makes returns."""
    return {f[NAMES][0] for f in statement_facts(analysis, line)
            if f[KIND] == "type" and f[ACTION] == REF and f[OPEN]}


def renames_away(freed: tuple[int, str], column: str,
                  events: dict[tuple[str, str], list[Event]],
                  tables: Mapping[str, list[int]],
                  means: dict[tuple[str, int], int | None]) -> None:
    """A use of ``column`` of a table a file made by renaming another away (``freed``:
    that file, the old name): when one definition's file alone made the column under
    the old name, the renaming file removes that definition (in ``means``)."""
    renaming, old = freed
    member = f"{old}.{column.rpartition('.')[2]}"
    made = {e[0] for e in events.get(("column", member)) or () if e[2] != DROP}
    if len(made) == 1 and (p := next(iter(made))) in tables[old]:
        tell(means, (old, renaming), p)


def read_only(analyses: Sequence[FileAnalysis], table: str, files: list[int]) -> set[int]:
    """The files of ``files`` making ``table`` a view PostgreSQL cannot write (a join…,
    see :data:`calctl.sql.facts.WRITES`), unless some file gives the name a ``DO
    INSTEAD`` rule or an ``INSTEAD OF`` trigger — or runs SQL the analysis cannot read
    (a DO block's ``EXECUTE``, CAL010), which may make one."""
    made = {pos for pos in files for f in analyses[pos].facts
            if f[KIND] == WRITES and not f[OPEN] and f[NAMES][0] == table}
    if made and any(any(f[KIND] == WRITES and f[OPEN] and f[NAMES][0] == table
                        for f in analysis.facts)
                    or any(note.code == _OPAQUE for note in analysis.notes)
                    for analysis in analyses):
        return set()
    return made
