"""What ``DROP TABLE … CASCADE`` takes with it: the foreign keys of other tables that
reference the table.

A file dropping such a foreign key by name (``ALTER TABLE t DROP CONSTRAINT t_x_fkey``,
as Prisma writes before dropping ``t``) fails once the cascade has run ("constraint …
does not exist"), so it runs before the cascading drop — even where that drop is
guarded (``DROP TABLE IF EXISTS x CASCADE``: a clean-up written long after, which
nothing else holds in place in a misordered history). Only for a foreign key one file
makes, dropped plainly (``IF EXISTS`` may run after), over a table never renamed away
(the key follows the table to its new name) and made once — or, where the table is
made again, whose cascading drop sorts after the key's creator with no drop of the
table between them (else the cascade removes another definition than the key's).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from calctl.sql.facts import (
    ACTION,
    COLUMN,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    PROVIDING,
    REF,
    RENAME,
    Fact,
    FileAnalysis,
)
from calctl.sql.names.model import Edge, Event, object_label, statement_facts


def cascade_edges(cascades: Sequence[tuple[int, Fact]], analyses: Sequence[FileAnalysis],
                  events: dict[tuple[str, str], list[Event]],
                  add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """A ``drops`` edge from each file dropping (plainly) a foreign key over a table to
    each file dropping that table with ``CASCADE`` (``cascades``: (file, drop fact))."""
    by_table: dict[str, list[tuple[int, int]]] = {}
    for pos, fact in cascades:
        table = fact[NAMES][0]
        if not any(e[2] == DROP and e[3][ACTION] == RENAME
                   for e in events.get(("relation", table)) or ()):
            by_table.setdefault(table, []).append((pos, fact[LINE]))
    if not by_table:
        return
    for (kind, key), evs in events.items():
        if kind != "constraint":
            continue
        made = [e for e in evs if e[2] != DROP]
        drops = [e for e in evs if e[2] == DROP and e[3][ACTION] == DROP and not e[3][GUARDED]]
        if len(made) != 1 or not drops:
            continue
        referenced = _referenced(analyses[made[0][0]], made[0][3])
        if referenced is None or referenced not in by_table:
            continue
        table_events = events.get(("relation", referenced)) or []
        once = sum(e[2] != DROP for e in table_events) == 1
        for pos, line in by_table[referenced]:
            if not once and (made[0][0] > pos or any(made[0][0] < e[0] < pos
                                                     for e in table_events if e[2] == DROP)):
                continue  # the cascade may remove another definition than the key's
            label = object_label("constraint", key, default_schema)
            for e in drops:
                if e[0] != pos:
                    add_edge(Edge(e[0], pos, label, e[1], 1, e[0] > pos, "drops", line))


def _referenced(analysis: FileAnalysis, key: Fact) -> str | None:
    """The table the foreign key made by ``key`` references: the first table its
    statement uses after the key's own place, before the next constraint it makes
    (``CONSTRAINT a FOREIGN KEY (x) REFERENCES t (id), CONSTRAINT b …``)."""
    at = (key[LINE], key[COLUMN])
    after = sorted((f for f in statement_facts(analysis, key[LINE])
                    if (f[LINE], f[COLUMN]) > at
                    and ((f[KIND] == "constraint" and f[ACTION] in PROVIDING)
                         or (f[KIND] == "relation" and f[ACTION] == REF))),
                   key=lambda f: (f[LINE], f[COLUMN]))
    first = after[0] if after else None
    return first[NAMES][0] if first is not None and first[KIND] == "relation" else None
