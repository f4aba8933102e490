"""What ``DROP TABLE … CASCADE`` takes with it: the foreign keys of other tables that
reference the table.

A file dropping such a foreign key by name (``ALTER TABLE t DROP CONSTRAINT t_x_fkey``,
as Prisma writes before dropping ``t``) fails once the cascade has run ("constraint …
does not exist"), so it runs before the cascading drop — even where that drop is
guarded (``DROP TABLE IF EXISTS x CASCADE``: a clean-up written long after, which
nothing else holds in place in a misordered history). Only for a foreign key one file
makes, dropped plainly (``IF EXISTS`` may run after), and over a table one file makes
or whose cascading drop sorts after the key's creator: else the drop may remove
another definition of the table (made, dropped, made again with the key).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from calctl.sql.facts import ACTION, DROP, GUARDED, KIND, LINE, NAMES, REF, Fact, FileAnalysis
from calctl.sql.names.model import Edge, Event, object_label, statement_facts


def cascade_edges(cascades: Sequence[tuple[int, Fact]], analyses: Sequence[FileAnalysis],
                  events: dict[tuple[str, str], list[Event]],
                  add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """A ``drops`` edge from each file dropping (plainly) a foreign key over a table to
    each file dropping that table with ``CASCADE`` (``cascades``: (file, drop fact))."""
    by_table: dict[str, list[tuple[int, int, bool]]] = {}
    for pos, fact in cascades:
        table = fact[NAMES][0]
        once = sum(e[2] != DROP for e in events.get(("relation", table)) or ()) == 1
        by_table.setdefault(table, []).append((pos, fact[LINE], once))
    for (kind, key), evs in events.items():
        if kind != "constraint":
            continue
        made = [e for e in evs if e[2] != DROP]
        drops = [e for e in evs if e[2] == DROP and e[3][ACTION] == DROP and not e[3][GUARDED]]
        if len(made) != 1 or not drops:
            continue
        for table in _referenced(analyses[made[0][0]], made[0][1], key):
            for pos, line, once in by_table.get(table, ()):
                if not once and made[0][0] > pos:
                    continue  # the drop may be of an earlier definition than the key's
                label = object_label("constraint", key, default_schema)
                for e in drops:
                    if e[0] != pos:
                        add_edge(Edge(e[0], pos, label, e[1], 1, e[0] > pos, "drops", line))


def _referenced(analysis: FileAnalysis, line: int, key: str) -> set[str]:
    """The tables the foreign key ``key`` made on ``line`` references: the tables its
    statement uses on that line (else anywhere in it), its own table aside."""
    own = key.rpartition(".")[0]
    uses = [(f[NAMES][0], f[LINE]) for f in statement_facts(analysis, line)
            if f[ACTION] == REF and f[KIND] == "relation" and f[NAMES][0] != own]
    return {name for name, at in uses if at == line} or {name for name, _ in uses}
