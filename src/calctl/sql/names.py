"""Name resolution across files: which file provides each object another file uses.

Every reference resolves, in filename order, to the nearest earlier event of
its object: a provider (CREATE, CREATE OR REPLACE, a RENAME into the name) gives
a dependency edge; a DROP or RENAME away, or no earlier event at all, sends it to
the nearest *later* provider — a forward dependency, the thing ``--check``
fails on. Candidates follow the search path (the first one some file provides
wins), built-ins (pg_catalog) were dropped by the analyser, and objects of
extensions resolve to the file that creates the extension.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from calctl.sql.extensions import extension_of
from calctl.sql.facts import (
    ACTION,
    ALTER,
    COLUMN,
    CREATE,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    NEW,
    OPEN,
    PROVIDING,
    REF,
    RENAME,
    UNQUALIFIED,
    WEAK,
    Fact,
    FileAnalysis,
    Span,
    summarise,
)
from calctl.sql.facts import (
    fact as make_fact,
)


class Edge(NamedTuple):
    """``user`` needs ``object`` (at ``line``), provided by file ``provider``."""

    provider: int
    user: int
    object: str       # "table users"
    line: int
    column: int
    forward: bool     # the provider sorts after the user in filename order
    # uses: ``user`` uses what ``provider`` creates; drops: ``provider`` uses what
    # ``user`` later drops or renames (so ``provider`` must run first); redefines (a
    # definition after an earlier one, or after its drop); keeps (an order PostgreSQL
    # needs between a dependent object and a change of what it depends on)
    kind: str = "uses"
    drop_line: int = 0  # drops: the line of the DROP/RENAME in file ``user``


# Edge kinds that only keep an order filename order suggests (they give way to the
# others in a cycle, see calctl.sql.graph.stable_order)
SOFT = frozenset({"redefines", "keeps"})


class Missing(NamedTuple):
    user: int
    object: str
    line: int
    column: int
    hint: str = ""


class Duplicate(NamedTuple):
    file: int
    other: int
    object: str
    line: int
    other_line: int


@dataclass
class Resolution:
    edges: list[Edge] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    # (files, user): a use that any of these files meets (idempotent creators of one
    # object, ``CREATE … IF NOT EXISTS``); files[0] is its edge's provider
    choices: list[tuple[tuple[int, ...], int]] = field(default_factory=list)


# (position, line, action, fact)
_Event = tuple[int, int, str, Fact]


def _label(display: str, identity: str, default_schema: str) -> str:
    prefix = default_schema + "."
    name = identity[len(prefix):] if identity.startswith(prefix) else identity
    return f'{display} "{name}"'


def resolve(analyses: Sequence[FileAnalysis], *, known: Sequence[str] = (),
            default_schema: str = "public") -> Resolution:
    """Edges between files (positions are indexes into ``analyses``, filename order)."""
    events: dict[tuple[str, str], list[_Event]] = {}
    extensions: dict[str, list[tuple[int, int]]] = {}
    # one pass over what each file provides, drops and renames: the events of each
    # object (the per-file part, summarise(), ran where the files were analysed)
    per_file: list[tuple[tuple[Fact, ...], tuple[Fact, ...]]] = []
    retyped: list[tuple[int, Fact]] = []  # ALTER COLUMN … TYPE
    # what drops and renames touched, for the rules that look at few objects: (kind,
    # identity) of unguarded DROP/RENAME-away events of relations, columns and types
    dropped: set[tuple[str, str]] = set()
    indexes: list[Fact] = []  # indexes that belong to a constraint
    linked: list[tuple[int, Fact]] = []  # drops of constraints, renames
    for pos, analysis in enumerate(analyses):
        refs, column_refs, changes = analysis.summary or summarise(analysis.facts)
        per_file.append((refs, column_refs))
        for fact in changes:
            action = fact[ACTION]
            if action == ALTER:
                retyped.append((pos, fact))
            elif action in PROVIDING:
                provided = (fact[KIND], fact[NAMES][0])
                bucket = events.get(provided)
                if bucket is None:
                    events[provided] = [(pos, fact[LINE], action, fact)]
                else:
                    bucket.append((pos, fact[LINE], action, fact))
                if fact[KIND] == "extension":
                    extensions.setdefault(fact[NAMES][0], []).append((pos, fact[LINE]))
                elif fact[NEW]:  # the index of a constraint: provides the constraint too
                    indexes.append(fact)
                    events.setdefault(("constraint", fact[NEW]), []).append(
                        (pos, fact[LINE], action, fact))
            elif action == DROP:
                for name in fact[NAMES]:
                    events.setdefault((fact[KIND], name), []).append((pos, fact[LINE], DROP, fact))
                if not fact[GUARDED] or fact[KIND] == "type":  # (DROP TYPE IF EXISTS: too)
                    dropped.update((fact[KIND], name) for name in fact[NAMES])
                if fact[KIND] == "constraint":
                    linked.append((pos, fact))
            else:  # RENAME
                linked.append((pos, fact))
                if not fact[GUARDED]:
                    dropped.update((fact[KIND], name) for name in fact[NAMES])
                for name in fact[NAMES]:
                    events.setdefault((fact[KIND], name), []).append((pos, fact[LINE], DROP, fact))
                events.setdefault((fact[KIND], fact[NEW]), []).append(
                    (pos, fact[LINE], RENAME, fact))

    if indexes and linked:
        _constraint_indexes(events, indexes, linked)
    # tables dropped or renamed away (unguarded): their columns go with them
    rebuilt = {name for kind, name in dropped if kind == "relation"}
    rebound: set[tuple[int, int]] = set()  # (adding file, dropping file): see below
    known_set = {k.lower() for k in known}
    labels: dict[tuple[str, str], str] = {}
    result = Resolution()
    seen_edges: set[tuple[int, int, str]] = set()
    edges = result.edges

    def add_edge(edge: Edge) -> None:
        key = (edge.provider, edge.user, edge.object)
        if key not in seen_edges:
            seen_edges.add(key)
            edges.append(edge)

    def label_of(display: str, identity: str) -> str:
        label = labels.get((display, identity))
        if label is None:
            label = labels[(display, identity)] = _label(display, identity, default_schema)
        return label

    def is_known(identity: str) -> bool:
        if not known_set:
            return False
        parts = identity.split(".")
        for i in range(len(parts)):
            if ".".join(parts[i:]) in known_set or ".".join(parts[: i + 1]) in known_set:
                return True
        return False

    unknown_extension = any(extension_of_name(e) for e in extensions)
    # (kind, identity, provider position) → the files whose use resolved to that definition
    users: dict[tuple[str, str, int], tuple[list[_Event], list[tuple[int, str, Fact]]]] = {}
    by_bare: dict[tuple[str, str], str] | None = None  # built when first needed

    def elsewhere_of(kind: str, bare: str) -> str | None:
        nonlocal by_bare
        if by_bare is None:
            by_bare = {}
            for (kind_, identity), evs_ in events.items():
                if kind_ != "column" and "." in identity and any(e[2] != DROP for e in evs_):
                    by_bare.setdefault((kind_, identity.split(".", 1)[1]), identity)
        return by_bare.get((kind, bare))

    new_edge = tuple.__new__  # an Edge without its Python-level __new__ (thousands made)
    for pos, (refs, column_refs) in enumerate(per_file):
        for fact in refs:
            kind = fact[KIND]
            names = fact[NAMES]
            chosen, evs = _choose(fact, events)
            if evs is not None and len(evs) == 1 and chosen is not None:
                only = evs[0]
                if only[0] < pos and only[2] != DROP:
                    # the common case: the one event of the object is an earlier file's
                    # definition (nothing drops it, so the use need not be remembered)
                    add_edge(new_edge(Edge, (only[0], pos, label_of(fact[DISPLAY], chosen),
                                             fact[LINE], fact[COLUMN], False, "uses", 0)))
                    if rebuilt and kind == "column" and fact[ACTION] == REF:
                        _lost_with_table(pos, only, chosen, rebuilt, events, add_edge,
                                         default_schema, rebound)
                    continue
            weak = fact[ACTION] == WEAK
            if evs is None and fact[NEW] == UNQUALIFIED and kind != "column":
                # unqualified, and no schema on the path has it: some file may create it
                # in a schema the tool, role or database puts on the path; use that one,
                # but only as ordering information (never a forward-dependency error)
                bare = names[0].split(".", 1)[1]
                elsewhere = elsewhere_of(kind, bare)
                if elsewhere:
                    chosen, evs = elsewhere, events[(kind, elsewhere)]
                    weak = True
            if evs is None:
                if weak or kind in _NEVER_MISSING or is_known(names[0]):
                    continue  # columns without a provider: see _columns
                bare = names[0].rsplit(".", 1)[-1]
                ext = extension_of(bare) if kind in ("function", "type", "relation") else None
                if ext and ext in extensions:
                    epos = extensions[ext][0][0]
                    if epos != pos:
                        add_edge(Edge(epos, pos, f'extension "{ext}"', fact[LINE], fact[COLUMN],
                                      epos > pos))
                    continue
                if kind in ("function", "type") and unknown_extension and not ext:
                    continue
                hint = (f'Add CREATE EXTENSION IF NOT EXISTS "{ext}" before it.' if ext else
                        "Create it in an earlier migration, or declare it with "
                        "--assume-exists if it exists outside this directory.")
                result.missing.append(Missing(pos, _label(fact[DISPLAY], names[0],
                                                          default_schema),
                                              fact[LINE], fact[COLUMN], hint))
                continue
            assert chosen is not None
            last = None
            at = -1
            for at_, e in enumerate(evs):
                if e[0] >= pos:
                    break
                last, at = e, at_
            if last is not None and last[2] != DROP:
                # the common case: a use of an object an earlier file provides
                label = label_of(fact[DISPLAY], chosen)
                add_edge(Edge(last[0], pos, label, fact[LINE], fact[COLUMN], False))
                if rebuilt and kind == "column" and not weak:
                    _lost_with_table(pos, last, chosen, rebuilt, events, add_edge,
                                     default_schema, rebound)
                if last[2] == CREATE and last[3][GUARDED]:
                    result.choices.append((_alternatives(evs, at), pos))
                use = users.get((kind, chosen, last[0]))
                if use is None:
                    use = users[(kind, chosen, last[0])] = (evs, [])
                use[1].append((pos, label, fact))
                # a later DROP/RENAME of the object must stay after this use
                for e in evs:
                    if e[0] > pos and e[2] == DROP:
                        add_edge(Edge(pos, e[0], label, e[1], 1, False, "drops"))
                        break
                continue
            if last is None and kind == "column" and _through_rename(
                    pos, fact, chosen, events, add_edge, label_of(fact[DISPLAY], chosen)):
                continue
            if kind == "constraint" and not _closed_table(chosen, pos, events):
                weak = True  # its table's constraints are not all known here
            at = next((i for i, e in enumerate(evs) if e[0] > pos and e[2] != DROP), -1)
            later = evs[at] if at >= 0 else None
            if later is not None:
                if not weak:
                    label = _label(fact[DISPLAY], chosen, default_schema)
                    add_edge(Edge(later[0], pos, label, fact[LINE], fact[COLUMN], True))
                    if later[2] == CREATE and later[3][GUARDED]:
                        result.choices.append((_alternatives(evs, at), pos))
                    users.setdefault((kind, chosen, later[0]), (evs, []))[1].append(
                        (pos, label, fact))
                continue
            if weak or is_known(chosen):
                continue
            # defined earlier, then dropped or renamed by an earlier file, and nothing
            # recreates it: this file belongs between the two, so the file that drops
            # or renames it must wait for this one (a forward dependency too)
            before = [i for i, e in enumerate(evs) if e[0] < pos and e[2] != DROP]
            # the first drop after the last definition; it may be in the defining file
            # itself (added and dropped there), and then no order brings it back
            dropper = next((e for e in evs[before[-1] + 1:] if e[0] < pos and e[2] == DROP),
                           None) if before else None
            if dropper is not None and dropper[0] != evs[before[-1]][0]:
                label = _label(fact[DISPLAY], chosen, default_schema)
                add_edge(Edge(evs[before[-1]][0], pos, label, fact[LINE], fact[COLUMN], False))
                add_edge(Edge(pos, dropper[0], label, fact[LINE], fact[COLUMN], True, "drops",
                              dropper[1]))
                continue
            if any(e[0] == pos and e[2] != DROP for e in evs):
                continue  # provided by this file itself, after this use (its own business)
            result.missing.append(Missing(
                pos, _label(fact[DISPLAY], chosen, default_schema), fact[LINE], fact[COLUMN],
                "It is dropped or renamed before this file runs; use the new name, or "
                "recreate it first."))
        _columns(pos, column_refs, events, result, is_known, default_schema)

    # A file that drops or renames an object must run after every other use of the same
    # definition — also when it moves because that definition sorts after it.
    for object_events, uses in users.values():
        if all(e[2] != DROP for e in object_events):
            continue
        droppers = {p for p, _, _ in uses
                    if any(e[0] == p and e[2] == DROP for e in object_events)}
        for dropping in droppers:
            drop_line = next(e[1] for e in object_events if e[0] == dropping and e[2] == DROP)
            for user, label, fact in uses:
                if user != dropping:
                    add_edge(Edge(user, dropping, label, fact[LINE], fact[COLUMN],
                                  user > dropping, "drops", drop_line))

    _dependents(analyses, events, dropped, retyped, add_edge, default_schema, rebound)
    wrong = _readded_columns(events, dropped, add_edge, default_schema)
    if wrong:  # the drop used the table's own column, not the one added after it
        result.edges = edges = [e for e in edges
                                if (e.provider, e.user, e.object) not in wrong]
    if rebound:  # the adding file runs after the rebuild, not before its drop
        result.edges = edges = [e for e in edges if e.kind != "drops"
                                or (e.provider, e.user) not in rebound]
    # only objects with more than one event can be redefined or created twice
    repeated = [(kind, evs) for kind, evs in events.items() if len(evs) > 1]
    _chain_providers(repeated, add_edge, default_schema)
    _recreations(repeated, events, add_edge, default_schema)
    result.duplicates.extend(_duplicates(repeated, default_schema))
    return result


def _dependents(analyses: Sequence[FileAnalysis],
                events: dict[tuple[str, str], list[_Event]], dropped: set[tuple[str, str]],
                retyped: list[tuple[int, Fact]], add_edge: Callable[[Edge], None],
                default_schema: str, rebound: set[tuple[int, int]]) -> None:
    """Objects PostgreSQL keeps others from changing while something depends on them:

    * ``DROP TYPE`` runs after the drops of the tables (and columns) made with the
      type (else "other objects depend on it");
    * ``ALTER COLUMN … TYPE`` runs before the views over the column are created, or
      after they are dropped (else "cannot alter type of a column used by a view");
    * a foreign key (or view) over a column that a file drops and adds again is made
      after that file unless it is dropped in between (see :func:`_released`); its
      use of the column is then the new column's, so the "drops" edge that kept it
      before the drop is taken back (``rebound``).

    The first two only keep the filename order of such pairs (edges from earlier to
    later files); the third is a forward dependency only where filename order fails.
    """
    type_drops: dict[str, list[_Event]] = {}
    for kind, name in dropped:
        if kind == "type":
            real = [e for e in events[(kind, name)] if e[3][ACTION] == DROP]
            if real:
                type_drops[name] = real
    columns = {fact[NAMES][0] for _, fact in retyped}
    redefined = _redefined_columns(events, dropped)
    if not type_drops and not columns and not redefined:
        return
    label = {name: _label("type", name, default_schema) for name in type_drops}
    # one pass over every file's uses of those types and columns
    for pos, analysis in enumerate(analyses):
        spans: list[Span] | None = None
        for fact in analysis.facts:
            if fact[ACTION] != REF or fact[KIND] not in ("type", "column"):
                continue
            name = fact[NAMES][0]
            if fact[KIND] == "type":
                drops = type_drops.get(name)
                if drops is None:
                    continue
                spans = spans if spans is not None else list(analysis.spans)
                for kind, made, _, _ in _made_with(analysis, spans, fact[LINE]):
                    if kind == "column":
                        candidates = [("column", made), ("relation", made.rsplit(".", 1)[0])]
                    elif kind == "relation":
                        candidates = [("relation", made)]
                    else:
                        continue
                    for drop in drops:
                        gone = _first_drop(events, candidates, (pos, fact[LINE]),
                                           (drop[0], drop[1]))
                        if gone is not None and gone < drop[0]:
                            add_edge(Edge(gone, drop[0], label[name], drop[1], 1, False,
                                          "keeps", drop[1]))
            else:
                if name in columns:
                    spans = spans if spans is not None else list(analysis.spans)
                    for kind, view, line, display in _made_with(analysis, spans, fact[LINE]):
                        if kind == "relation" and display in ("view", "materialized view"):
                            _view_and_retype(pos, line, view, name, retyped, events,
                                             add_edge, default_schema)
                redefiners = redefined.get(name)
                if redefiners:
                    spans = spans if spans is not None else list(analysis.spans)
                    holders = _holders(name, _made_with(analysis, spans, fact[LINE]))
                    for at in redefiners:
                        if at != pos and any(not _released(h, pos, at, events)
                                             for h in holders):
                            add_edge(Edge(at, pos, _label("column", name, default_schema),
                                          fact[LINE], fact[COLUMN], at > pos))
                            rebound.add((pos, at))


def _redefined_columns(events: dict[tuple[str, str], list[_Event]],
                       dropped: set[tuple[str, str]]) -> dict[str, list[int]]:
    """Columns a file drops (plainly: not ``IF EXISTS``, not ``CASCADE``) and adds again
    (Prisma's way to change a column's type), and the files that do it."""
    out: dict[str, list[int]] = {}
    for kind, name in dropped:
        if kind != "column":
            continue
        evs = events[(kind, name)]
        files = [b[0] for a, b in itertools.pairwise(evs)
                 if a[2] == DROP and a[3][ACTION] == DROP and not a[3][GUARDED]
                 and b[2] != DROP and a[0] == b[0]]
        if files:
            out[name] = files
    return out


def _holders(column: str,
             made: list[tuple[str, str, int, str]]) -> list[tuple[tuple[str, str], ...]]:
    """What the statement using ``column`` makes that keeps PostgreSQL from dropping the
    column: a foreign key of another table, or a view, over it (each as the events
    keys whose drop releases it: the constraint and its table, or the view)."""
    table = column.rpartition(".")[0]
    out: list[tuple[tuple[str, str], ...]] = []
    for kind, name, _, display in made:
        if kind == "constraint":
            owner = name.rpartition(".")[0]
            if owner != table:
                out.append(((kind, name), ("relation", owner)))
        elif kind == "relation" and display in ("view", "materialized view"):
            out.append(((kind, name),))
    return out


def _released(holder: tuple[tuple[str, str], ...], made: int, dropping: int,
              events: dict[tuple[str, str], list[_Event]]) -> bool:
    """Whether a holder made in file ``made`` may be gone when file ``dropping`` drops
    the column: it runs after it, or a file between them (in filename order) drops it.
    When not, the file that makes it runs after the one that drops and adds the column
    again ("cannot drop … because other objects depend on it" otherwise; "foreign key
    constraint … cannot be implemented" when it meets the old column) — a history whose
    filename order applies has it there already."""
    if made > dropping:
        return False  # made after: the edge only keeps filename order
    return any(made <= e[0] <= dropping and e[2] == DROP
               for key in holder for e in events.get(key) or ())


def _made_with(analysis: FileAnalysis, spans: list[Span],
               line: int) -> list[tuple[str, str, int, str]]:
    """(kind, identity, line, display) of what the statement holding ``line`` creates."""
    span = next((s for s in spans if s.first <= line <= s.last), None)
    if span is None:
        return []
    return [(f[KIND], f[NAMES][0], f[LINE], f[DISPLAY]) for f in analysis.facts
            if f[ACTION] in PROVIDING and span.first <= f[LINE] <= span.last]


def _first_drop(events: dict[tuple[str, str], list[_Event]],
                candidates: list[tuple[str, str]], after: tuple[int, int],
                before: tuple[int, int]) -> int | None:
    """The file of the first real DROP of one of ``candidates`` between two points."""
    found: int | None = None
    for key in candidates:
        for e in events.get(key) or ():
            if after < (e[0], e[1]) < before and e[3][ACTION] == DROP:
                found = e[0] if found is None else min(found, e[0])
                break
    return found


def _view_and_retype(pos: int, line: int, view: str, column: str,
                     retyped: list[tuple[int, Fact]],
                     events: dict[tuple[str, str], list[_Event]],
                     add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """A view over ``column`` made at (pos, line): each change of the column's type
    stays before the view is made, or after it is dropped, as in filename order."""
    evs = events.get(("relation", view)) or []
    dropped = next(((e[0], e[1]) for e in evs if (e[0], e[1]) > (pos, line)
                    and e[3][ACTION] == DROP), None)
    label = _label("column", column, default_schema)
    for at, fact in retyped:
        if fact[NAMES][0] != column:
            continue
        where = (at, fact[LINE])
        if where < (pos, line) and at != pos:
            add_edge(Edge(at, pos, label, line, 1, False, "keeps", line))
        elif dropped is not None and dropped < where and dropped[0] != at:
            add_edge(Edge(dropped[0], at, label, fact[LINE], 1, False, "keeps", fact[LINE]))


def _readded_columns(events: dict[tuple[str, str], list[_Event]],
                     dropped: set[tuple[str, str]], add_edge: Callable[[Edge], None],
                     default_schema: str) -> set[tuple[int, int, str]]:
    """``ADD COLUMN c`` to a table whose one ``CREATE TABLE`` already has ``c``, and
    exactly one file that drops (or renames away) ``c``: the adding file needs ``c``
    gone, so it runs after that drop, whatever the names say ("column already
    exists"). Only for a table made once (by a plain ``CREATE TABLE``, never renamed
    into its name: once dropped it cannot be altered), one plain adding file and one
    dropping file: any history whose filename order applies has them in this order
    already, so this never raises a false alarm."""
    wrong: set[tuple[int, int, str]] = set()  # edges (provider, user, object) to drop
    for kind, column in dropped:
        evs = events[(kind, column)]
        if kind != "column" or len(evs) < 3:
            continue
        table = column.rpartition(".")[0]
        made_by = [e for e in events.get(("relation", table)) or () if e[2] != DROP]
        if len(made_by) != 1 or made_by[0][2] != CREATE or made_by[0][3][OPEN]:
            continue
        made = made_by[0][0]
        creators = [e for e in evs if e[2] != DROP]
        drops = [e for e in evs if e[2] == DROP]
        adders = [e for e in creators if e[0] != made]
        if (len(drops) != 1 or len(adders) != 1 or len(creators) != 2
                or any(e[3][GUARDED] for e in [*creators, *drops])
                or all(e[0] != made for e in creators)):
            continue
        drop, adder = drops[0], adders[0]
        if drop[0] != adder[0] and drop[0] != made:
            label = _label("column", column, default_schema)
            add_edge(Edge(drop[0], adder[0], label, adder[1], 1, drop[0] > adder[0], "drops",
                          adder[1]))
            # the drop needs the column the table was made with
            add_edge(Edge(made, drop[0], label, drop[1], 1, made > drop[0]))
            wrong.add((adder[0], drop[0], label))
    return wrong


def _lost_with_table(pos: int, provider: _Event, column: str, rebuilt: set[str],
                     events: dict[tuple[str, str], list[_Event]],
                     add_edge: Callable[[Edge], None], default_schema: str,
                     rebound: set[tuple[int, int]]) -> None:
    """A column used in file ``pos``, added by ``provider`` to a table that a file
    between them drops (or renames away) and defines again without the column: in
    filename order the column is gone when it is used, so the file that added it
    belongs after the new definition (a forward dependency of the adding file). A
    table rebuilt by renaming another one into its name keeps that one's columns; one
    whose new definition does not list all its columns (``LIKE``, ``AS``, dynamic
    SQL) is given the benefit of the doubt. The adding file's uses of the table then
    belong to the new definition: (adding file, dropping file) goes into ``rebound``,
    whose "drops" edges are taken back."""
    table = column.rpartition(".")[0]
    if table not in rebuilt:
        return
    evs = events.get(("relation", table)) or []
    start = (provider[0], provider[1])
    gone = next((i for i, e in enumerate(evs) if start < (e[0], e[1]) and e[0] < pos
                 and e[2] == DROP and not e[3][GUARDED]), None)
    if gone is None or evs[gone][0] == provider[0]:
        return
    again = next((e for e in evs[gone + 1:] if e[0] < pos and e[2] != DROP), None)
    if again is None or again[0] == provider[0] or again[3][OPEN]:
        return
    name = column.rpartition(".")[2]
    if again[2] == RENAME:
        old = again[3][NAMES][0]
        made = [e for e in events.get(("relation", old)) or () if e[2] != DROP]
        if not made or any(e[3][OPEN] for e in made):
            return  # the renamed table's columns are not all known
        if any((e[0], e[1]) < (again[0], again[1]) and e[2] != DROP
               for e in events.get(("column", f"{old}.{name}")) or ()):
            return  # it had the column
    elif any(e[0] == again[0] and e[2] != DROP
             for e in events.get(("column", column)) or ()):
        return  # defined again with the column
    add_edge(Edge(again[0], provider[0], _label(again[3][DISPLAY], table, default_schema),
                  provider[1], 1, True))
    rebound.add((provider[0], evs[gone][0]))


def _through_rename(pos: int, fact: Fact, chosen: str,
                    events: dict[tuple[str, str], list[_Event]],
                    add_edge: Callable[[Edge], None], label: str) -> bool:
    """A column of a table that got its name from ``ALTER TABLE old RENAME TO new``
    before this use: the column came with the table, so the use binds to the column of
    the old name as it was at the rename (through a chain of renames). True when it did
    (an edge to the file that made the column, unless it is this file)."""
    table, _, column = chosen.rpartition(".")
    at_pos, at_line = pos, fact[LINE]
    for _ in range(16):  # a chain of renames; a loop of them ends here too
        into = None
        for e in events.get(("relation", table)) or ():
            if e[0] > at_pos or (e[0] == at_pos and e[1] > at_line):
                break
            into = e
        if into is None or into[2] != RENAME:
            return False
        at_pos, at_line = into[0], into[1]
        for old in into[3][NAMES]:
            last = None
            for e in events.get(("column", f"{old}.{column}")) or ():
                if e[0] > at_pos or (e[0] == at_pos and e[1] > at_line):
                    break
                last = e
            if last is not None:
                if last[2] == DROP:
                    return False
                if last[0] != pos:
                    add_edge(Edge(last[0], pos, label, fact[LINE], fact[COLUMN], False))
                return True
        table = into[3][NAMES][0]
    return False


def extension_of_name(extension: str) -> bool:
    """True for an extension this module has no object list for."""
    from calctl.sql.extensions import EXTENSION_OBJECTS

    return extension not in EXTENSION_OBJECTS and extension not in ("plpgsql",)


def _choose(fact: Fact, events: dict[tuple[str, str], list[_Event]]) -> \
        tuple[str | None, list[_Event] | None]:
    kinds = (fact[KIND], "relation") if fact[KIND] == "type" else (fact[KIND],)
    for kind in kinds:
        for name in fact[NAMES]:
            evs = events.get((kind, name))
            if evs and (evs[0][2] != DROP or any(e[2] != DROP for e in evs)):
                return name, evs
    return None, None


def _columns(pos: int, column_refs: Sequence[Fact],
             events: dict[tuple[str, str], list[_Event]],
             result: Resolution, is_known: Callable[[str], bool],
             default_schema: str) -> None:
    """Column references (``column_refs``: the file's distinct plain ones that the file
    does not provide itself) with no provider of the column: report them when the table
    is created in this directory by a plain CREATE TABLE that does not list the column."""
    for fact in column_refs:
        for n in fact[NAMES]:
            if events.get(("column", n)):
                break
        else:
            _unprovided_column(pos, fact, events, result, is_known, default_schema)


def _unprovided_column(pos: int, fact: Fact, events: dict[tuple[str, str], list[_Event]],
                       result: Resolution, is_known: Callable[[str], bool],
                       default_schema: str) -> None:
    """A plain column reference no file provides: report it when its table is created
    here by a plain CREATE TABLE that does not list the column."""
    for name in fact[NAMES]:
        table = name.rsplit(".", 1)[0]
        evs = events.get(("relation", table))
        if not evs:
            continue
        providers = [e for e in evs if e[2] != DROP]
        if not providers:
            break
        if any(e[3][OPEN] or e[2] == RENAME or e[3][DISPLAY] != "table" for e in providers):
            break
        if is_known(name):
            break
        column = name.rsplit(".", 1)[1]
        result.missing.append(Missing(
            pos, f'column "{column}" of {_label("table", table, default_schema)}',
            fact[LINE], fact[COLUMN],
            "No migration adds this column; add it (ALTER TABLE … ADD COLUMN) in an "
            "earlier file, or fix the name."))
        break


def _chain_providers(repeated: list[tuple[tuple[str, str], list[_Event]]],
                     add_edge: Callable[[Edge], None],
                     default_schema: str) -> None:
    """Redefinitions (CREATE OR REPLACE, drop and recreate) keep their relative order."""
    for (kind, name), evs in repeated:
        # a drop (or rename away) and the next definition in a later file: the new
        # definition must not run while the old one still exists ("column already
        # exists" when a moved file drops it after the file that adds it again)
        # (only a drop of a definition filename order has already made: one that
        # sorts before every definition drops the later one, misnumbered)
        dropped: _Event | None = None
        defined = False
        for e in evs:
            if e[2] == DROP:
                dropped = e if defined else None
                continue
            defined = True
            if dropped is not None:
                if dropped[0] < e[0]:
                    add_edge(Edge(dropped[0], e[0], _label(e[3][DISPLAY], name,
                                                           default_schema),
                                  e[1], 1, False, "redefines"))
                dropped = None
        if kind in ("column", "constraint"):
            continue  # (a constraint added again after its drop: _recreations)
        files: list[tuple[int, int, Fact]] = []
        for e in evs:
            if e[2] == DROP or (e[2] == CREATE and (e[3][GUARDED] or e[3][NEW])):
                # a drop between definitions is ordered by the uses around it; an
                # idempotent creator is one of several alternatives, none first; a
                # constraint's index goes with its columns and table, unseen (DROP
                # COLUMN drops it): adding it again orders by its constraint's drop
                continue
            if not files or files[-1][0] != e[0]:
                files.append((e[0], e[1], e[3]))
        for (a, _, _), (b, line, fact) in itertools.pairwise(files):
            if a < b:
                add_edge(Edge(a, b, _label(fact[DISPLAY], name, default_schema), line, 1,
                              False, "redefines"))


def _duplicates(repeated: list[tuple[tuple[str, str], list[_Event]]],
                default_schema: str) -> list[Duplicate]:
    out = []
    for (kind, name), evs in repeated:
        if kind in ("column", "extension", "schema", "constraint"):
            continue  # (a constraint and its index come with their table, reported once)
        current: _Event | None = None
        for e in evs:
            if e[2] != DROP and e[3][NEW] and e[3][DISPLAY] == "index":
                continue
            if e[2] == DROP:
                current = None
            elif e[2] in (CREATE, RENAME):
                if current is not None and current[0] != e[0] and e[2] == CREATE:
                    out.append(Duplicate(e[0], current[0],
                                         _label(e[3][DISPLAY], name, default_schema),
                                         e[1], current[1]))
                elif current is None:
                    current = e
            else:  # CREATE OR REPLACE redefines on purpose
                current = current or e
    return out


# uses of these kinds with no provider are never reported missing: a column may come
# from a table read elsewhere; a constraint from a name PostgreSQL chose
_NEVER_MISSING = frozenset({"column", "constraint"})


def _alternatives(evs: list[_Event], at: int) -> tuple[int, ...]:
    """The files of the idempotent creators (``CREATE … IF NOT EXISTS``, or guarded in
    a DO block) around ``evs[at]`` with no other event of the object between them: any
    of them provides the object. ``evs[at]``'s file first."""
    def idempotent(e: _Event) -> bool:
        return e[2] == CREATE and bool(e[3][GUARDED])

    first = at
    while first > 0 and idempotent(evs[first - 1]):
        first -= 1
    last = at
    while last + 1 < len(evs) and idempotent(evs[last + 1]):
        last += 1
    files = [evs[at][0]]
    for e in evs[first:last + 1]:
        if e[0] not in files:
            files.append(e[0])
    return tuple(files)


def _closed_table(constraint: str, pos: int,
                  events: dict[tuple[str, str], list[_Event]]) -> bool:
    """Whether every constraint of ``constraint``'s table is known here: the table is
    created before file ``pos`` by plain CREATE TABLEs (no LIKE, INHERITS, AS, rename),
    so a constraint none of them names is really added later."""
    evs = events.get(("relation", constraint.rsplit(".", 1)[0]))
    if not evs:
        return False
    providers = [e for e in evs if e[2] != DROP]
    return (any(e[0] < pos for e in providers)
            and not any(e[3][OPEN] or e[2] == RENAME or e[3][DISPLAY] != "table"
                        for e in providers))


def _recreations(repeated: list[tuple[tuple[str, str], list[_Event]]],
                 events: dict[tuple[str, str], list[_Event]],
                 add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """A constraint (or the index it owns) dropped in one file and added again under
    the same name in a later one: the new one needs the old one gone — unless its
    table is created anew in between (or by that file): then it is another table's."""
    for (kind, name), evs in repeated:
        if kind != "constraint":
            continue
        tables = [e[0] for e in events.get(("relation", name.rsplit(".", 1)[0]), ())
                  if e[2] != DROP]
        defined = False  # a drop recreated later only matters when it drops something
        dropped: _Event | None = None
        for e in evs:
            if e[2] == DROP:
                if defined:
                    dropped, defined = e, False
            else:
                if dropped is not None and dropped[0] < e[0] \
                        and not any(dropped[0] < t <= e[0] for t in tables):
                    add_edge(Edge(dropped[0], e[0], _label("constraint", name, default_schema),
                                  e[1], 1, False, "redefines"))
                dropped, defined = None, True


def _constraint_indexes(events: dict[tuple[str, str], list[_Event]], indexes: list[Fact],
                        linked: list[tuple[int, Fact]]) -> None:
    """A PRIMARY KEY, UNIQUE or EXCLUDE constraint and its index are one object under
    two names: dropping or renaming the constraint drops or renames the index, and
    renaming the index renames the constraint. The analyser records the constraint an
    index belongs to in the index's ``new`` (``indexes``); add the events the other name
    implies to the drops and renames (``linked``, in file order)."""
    index_of = {f[NEW]: f[NAMES][0] for f in indexes}
    constraint_of = {index: constraint for constraint, index in index_of.items()}
    for pos, f in linked:
        kind = f[KIND]
        for name in f[NAMES]:
            if kind == "constraint" and name in index_of:
                other, other_kind, display = index_of[name], "relation", "index"
            elif kind == "relation" and name in constraint_of:
                other, other_kind, display = constraint_of[name], "constraint", "constraint"
            else:
                continue
            line = f[LINE]
            if f[ACTION] == DROP:
                _insert(events, (other_kind, other), (pos, line, DROP, f))
                break
            schema, _, rest = other.partition(".")
            new_name = f[NEW].rsplit(".", 1)[-1]
            new = (f"{schema}.{new_name}" if other_kind == "relation"
                   else f"{schema}.{rest.rsplit('.', 1)[0]}.{new_name}")
            renamed = make_fact(RENAME, other_kind, (other,), line, f[COLUMN], display, new=new)
            _insert(events, (other_kind, other), (pos, line, DROP, renamed))
            _insert(events, (other_kind, new), (pos, line, RENAME, renamed))
            if kind == "constraint":
                index_of[f[NEW]], constraint_of[new] = new, f[NEW]
            else:
                index_of[new], constraint_of[f[NEW]] = f[NEW], new
            break


def _insert(events: dict[tuple[str, str], list[_Event]], key: tuple[str, str],
            event: _Event) -> None:
    bisect.insort(events.setdefault(key, []), event, key=lambda e: (e[0], e[1]))
