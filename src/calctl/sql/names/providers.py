"""Which files provide an object when several do: chains of redefinitions, duplicate
and idempotent (``IF NOT EXISTS``) creators, recreations, constraint indexes, and the
files a drop must wait for."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from calctl.sql.facts import (
    ACTION,
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
    REF,
    RENAME,
    REPLACE,
    Fact,
    FileAnalysis,
    Span,
)
from calctl.sql.facts import (
    fact as make_fact,
)
from calctl.sql.names.columns import (
    first_drop,
    holders_of,
    is_released,
    made_with,
    redefined_columns,
    renamed_along,
    view_and_retype,
)
from calctl.sql.names.model import (
    Duplicate,
    Edge,
    Event,
    insert_event,
    made_again_after,
    object_label,
)


def chain_providers(repeated: list[tuple[tuple[str, str], list[Event]]],
                     add_edge: Callable[[Edge], None],
                     default_schema: str, *,
                     gone: dict[str, list[tuple[int, int]]] | None = None,
                     cascading: bool = True) -> None:
    """Redefinitions (CREATE OR REPLACE, drop and recreate) keep their relative order.

    Two exceptions. A function whose every definition is also known by its arguments is
    ordered per overload only (two overloads are two objects: ``f(int)`` and ``f(text)``
    need no order). And, only in a history whose filename order is wrong already
    (``gone`` is given: some file needs another that sorts after it), an overload with
    one plain ``CREATE FUNCTION`` among its definitions, the others being ``CREATE OR
    REPLACE`` or made again after their own file removed it (``DROP FUNCTION IF EXISTS
    f; CREATE FUNCTION f``, :func:`_remade`): the plain one comes first — after another
    it fails ("already exists with same argument types") — when nothing that could
    remove it sorts between them (its drops, but for one its file follows with a
    definition, and ``gone``: :func:`gone_by_name`; see
    :func:`_plain_first`); and the ``CREATE OR REPLACE`` definitions of such an overload
    run before its one plain drop by arguments when that drop's file makes another
    version of the function (:func:`_retired`). A view is read the same way (its one
    plain ``CREATE VIEW`` before its ``CREATE OR REPLACE VIEW``), only when no ``DROP …
    CASCADE`` is in the history (``cascading`` false: the view would go with its base
    table, schema or a column's type, which its events do not show). (Not other kinds: a
    table, an index or a trigger also goes with its table or schema, without a
    ``CASCADE``.) An intact history is never misordered, so this adds no alarm
    there, where a function may go in ways the analysis does not see (``DROP TYPE …
    CASCADE``, ``DROP OWNED``, ``EXECUTE``)."""
    by_arguments = {(e[0], e[1], name.partition("(")[0])
                    for (kind, name), evs in repeated if kind == "overload"
                    for e in evs if e[2] != DROP}
    functions = {name: evs for (kind, name), evs in repeated if kind == "function"}
    for (kind, name), evs in repeated:
        # a drop (or rename away) and the next definition in a later file: the new
        # definition must not run while the old one still exists ("column already
        # exists" when a moved file drops it after the file that adds it again)
        # (only a drop of a definition filename order has already made: one that
        # sorts before every definition drops the later one, misnumbered)
        dropped: Event | None = None
        defined = False
        for e in evs:
            if e[2] == DROP:
                dropped = e if defined else None
                continue
            defined = True
            if dropped is not None:
                if dropped[0] < e[0]:
                    add_edge(Edge(dropped[0], e[0], object_label(e[3][DISPLAY], name,
                                                           default_schema),
                                  e[1], 1, False, "redefines"))
                dropped = None
        if kind in ("column", "constraint"):
            continue  # (a constraint added again after its drop: recreations)
        if kind == "function" and all((e[0], e[1], name) in by_arguments
                                      for e in evs if e[2] != DROP):
            continue
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
        plain: list[tuple[int, int, Fact]] = []
        removals: list[tuple[int, int]] = []
        if gone is not None and kind == "overload":
            removals = gone.get(name.partition("(")[0], [])
            plain = [f for f in files
                     if f[2][ACTION] == CREATE and not _remade(f, evs, removals)]
        elif gone is not None and not cascading and kind == "relation" \
                and evs[0][3][DISPLAY] == "view":
            plain = [f for f in files if f[2][ACTION] == CREATE and not _remade(f, evs, [])]
        if len(plain) == 1 and _plain_first(plain[0], files, evs, removals):
            first = plain[0][0]
            files.remove(plain[0])
            for b, line, fact in files:
                if b != first:  # needs the plain definition made: a use of it
                    add_edge(Edge(first, b, object_label(fact[DISPLAY], name, default_schema),
                                  line, 1, first > b, "uses"))
        retired = _retired(name, evs, functions) if len(plain) == 1 else None
        if retired is not None:
            for b, line, fact in files:
                if fact[ACTION] == REPLACE and b != retired[0]:
                    # replaced after its drop, the old version would stay beside the new
                    # one ("function name … is not unique" at the next drop by name)
                    add_edge(Edge(b, retired[0], object_label(fact[DISPLAY], name,
                                                              default_schema),
                                  line, 1, b > retired[0], "drops", retired[1]))
        for (a, _, _), (b, line, fact) in itertools.pairwise(files):
            if a < b:
                add_edge(Edge(a, b, object_label(fact[DISPLAY], name, default_schema), line, 1,
                              False, "redefines"))


def plain_before_guarded(repeated: list[tuple[tuple[str, str], list[Event]]],
                         events: dict[tuple[str, str], list[Event]],
                         add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """In a misordered history, a column's (or a type's) one plain ``ADD COLUMN``
    (``CREATE TYPE``) runs before its guarded ones (``ADD COLUMN IF NOT EXISTS``, a DO
    block's ``IF NOT EXISTS (… pg_type …) THEN CREATE TYPE``): after them it fails
    ("already exists"), before them they do nothing. Only where nothing may remove the
    object between them: no drop or rename of it, no drop of its schema; for a column, a
    table made once (its drop, if any, comes after every creator of the column) and no
    ``DROP TYPE … CASCADE`` anywhere (it drops the columns of the type). Not for tables
    or indexes: a table also goes with its parent's drop (a partition) and an index with
    its table, which the events of the object do not show."""
    cascaded_types: bool | None = None  # (looked for once a column qualifies)
    for (kind, name), evs in repeated:
        if kind not in ("column", "type") or any(e[2] != CREATE for e in evs):
            continue
        plain = [e for e in evs if not e[3][GUARDED]]
        if len(plain) != 1 or len(plain) == len(evs) \
                or any(e[2] == DROP for e in events.get(("schema", name.partition(".")[0]))
                       or ()):
            continue
        table = name.rpartition(".")[0]
        if kind == "column" and sum(e[2] != DROP for e in events.get(("relation", table))
                                    or ()) != 1:
            continue
        if kind == "column" and cascaded_types is None:
            cascaded_types = any(e[2] == DROP and e[3][OPEN]
                                 for (other, _), type_events in events.items()
                                 if other == "type" for e in type_events)
        if kind == "column" and cascaded_types:
            continue
        first = plain[0][0]
        for e in evs:
            if e[0] != first and e[3][GUARDED]:
                add_edge(Edge(first, e[0], object_label(e[3][DISPLAY], name, default_schema),
                              e[1], 1, first > e[0], "uses"))


def _retired(overload: str, evs: list[Event],
             functions: dict[str, list[Event]]) -> tuple[int, int] | None:
    """(file, line) of the one plain drop of an overload (``DROP FUNCTION f(int)``) that
    its file follows with another version of the function (``CREATE FUNCTION f(int,
    text)``): the overload is retired there, so its ``CREATE OR REPLACE`` definitions
    belong before it. None when there is no such single drop."""
    drops = [e for e in evs if e[2] == DROP and not e[3][GUARDED]]
    if len(drops) != 1:
        return None
    at, line = drops[0][:2]
    again = functions.get(overload.partition("(")[0], ())
    return (at, line) if any(e[0] == at and e[1] > line and e[2] != DROP
                             for e in again) else None



def gone_by_name(events: dict[tuple[str, str], list[Event]],
                 ) -> dict[str, list[tuple[int, int]]]:
    """Function name → where a statement drops or renames it by name alone (``DROP
    FUNCTION f``, ``DROP ROUTINE f``, ``SET SCHEMA``) or drops its schema: every overload
    may go there. (A drop by arguments also drops the name, guarded, at its overload's
    place: that one is the overload's own event.)"""
    by_arguments = {(e[0], e[1]) for (kind, _), evs in events.items() if kind == "overload"
                    for e in evs if e[2] in (DROP, RENAME)}
    schemas = {name: [e[:2] for e in evs if e[2] == DROP]
               for (kind, name), evs in events.items() if kind == "schema"}
    gone: dict[str, list[tuple[int, int]]] = {}
    for (kind, name), evs in events.items():
        if kind == "function":
            at = [e[:2] for e in evs if e[2] in (DROP, RENAME) and e[:2] not in by_arguments]
            at += schemas.get(name.partition(".")[0], ())
            if at:
                gone[name] = at
    return gone


def _remade(definition: tuple[int, int, Fact], evs: list[Event],
            gone: list[tuple[int, int]]) -> bool:
    """Whether the file of a plain ``CREATE`` removes the object first (``DROP … IF
    EXISTS x; CREATE x``): a definition that runs whatever came before it."""
    pos, line = definition[0], definition[1]
    return (any(e[0] == pos and e[1] < line and e[2] == DROP for e in evs)
            or any(g[0] == pos and g[1] < line for g in gone))


def _plain_first(plain: tuple[int, int, Fact], files: list[tuple[int, int, Fact]],
                 evs: list[Event], gone: list[tuple[int, int]]) -> bool:
    """Whether the one plain ``CREATE`` of an overload must come before its other
    definitions: nothing that removes it (its own drop or rename, or ``gone``: the
    function's by name) sorts between an earlier definition and it (``CREATE OR REPLACE
    f; DROP f; CREATE f`` is a history that runs as it is)."""
    at = plain[:2]
    removed = [e[:2] for e in evs
               if e[2] in (DROP, RENAME) and not made_again_after(e, evs)] + gone
    return not any(f[:2] < g <= at for f in files if f[:2] < at for g in removed)


def find_duplicates(repeated: list[tuple[tuple[str, str], list[Event]]],
                default_schema: str) -> list[Duplicate]:
    out = []
    for (kind, name), evs in repeated:
        if kind in ("column", "extension", "schema", "constraint"):
            continue  # (a constraint and its index come with their table, reported once)
        current: Event | None = None
        for e in evs:
            if e[2] != DROP and e[3][NEW] and e[3][DISPLAY] == "index":
                continue
            if e[2] == DROP:
                current = None
            elif e[2] in (CREATE, RENAME):
                if current is not None and current[0] != e[0] and e[2] == CREATE:
                    out.append(Duplicate(e[0], current[0],
                                         object_label(e[3][DISPLAY], name, default_schema),
                                         e[1], current[1]))
                elif current is None:
                    current = e
            else:  # CREATE OR REPLACE redefines on purpose
                current = current or e
    return out



# uses of these kinds with no provider are never reported missing: a column may come
# from a table read elsewhere; a constraint from a name PostgreSQL chose
NEVER_MISSING = frozenset({"column", "constraint", "overload", "label"})



def alternatives(evs: list[Event], at: int) -> tuple[int, ...]:
    """The files of the idempotent creators (``CREATE … IF NOT EXISTS``, or guarded in
    a DO block) around ``evs[at]`` with no other event of the object between them: any
    of them provides the object. ``evs[at]``'s file first."""
    def idempotent(e: Event) -> bool:
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



def closed_table(constraint: str, pos: int,
                  events: dict[tuple[str, str], list[Event]]) -> bool:
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



def recreations(repeated: list[tuple[tuple[str, str], list[Event]]],
                 events: dict[tuple[str, str], list[Event]],
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
        dropped: Event | None = None
        for e in evs:
            if e[2] == DROP:
                if defined:
                    dropped, defined = e, False
            else:
                if dropped is not None and dropped[0] < e[0] \
                        and not any(dropped[0] < t <= e[0] for t in tables):
                    what = object_label("constraint", name, default_schema)
                    add_edge(Edge(dropped[0], e[0], what, e[1], 1, False, "redefines"))
                dropped, defined = None, True



def constraint_indexes(events: dict[tuple[str, str], list[Event]], indexes: list[Fact],
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
                insert_event(events, (other_kind, other), (pos, line, DROP, f))
                break
            schema, _, rest = other.partition(".")
            new_name = f[NEW].rsplit(".", 1)[-1]
            new = (f"{schema}.{new_name}" if other_kind == "relation"
                   else f"{schema}.{rest.rsplit('.', 1)[0]}.{new_name}")
            renamed = make_fact(RENAME, other_kind, (other,), line, f[COLUMN], display, new=new)
            insert_event(events, (other_kind, other), (pos, line, DROP, renamed))
            insert_event(events, (other_kind, new), (pos, line, RENAME, renamed))
            if kind == "constraint":
                index_of[f[NEW]], constraint_of[new] = new, f[NEW]
            else:
                index_of[new], constraint_of[f[NEW]] = f[NEW], new
            break



DEPENDED_ON = frozenset({"type", "function", "column"})
END = (1 << 62, 0)  # after every statement of every file


def tied_to(made: list[tuple[str, str, int, str]], line: int) -> set[str]:
    """What a use at ``line`` of the statement that makes ``made`` is made with, when
    that is clear: the one column defined on that line (a table is not made with the
    type of one of its columns: dropping the column frees the type), else what is not
    a table nor a column (a trigger, a view, an index)."""
    columns = [m[1] for m in made if m[0] == "column"]
    if columns:
        here = [m[1] for m in made if m[0] == "column" and m[2] == line]
        return set(here) if len(here) == 1 else set()
    return {m[1] for m in made if m[0] != "column" and m[3] != "table"}


def dependents_of(analyses: Sequence[FileAnalysis],
                events: dict[tuple[str, str], list[Event]], dropped: set[tuple[str, str]],
                retyped: list[tuple[int, Fact]], add_edge: Callable[[Edge], None],
                default_schema: str, rebound: set[tuple[int, int]],
                misordered: bool = False) -> None:
    """Objects PostgreSQL keeps others from changing while something depends on them:

    * ``DROP TYPE`` runs after the drops of the tables (and columns) made with the
      type, and ``DROP FUNCTION`` after the drops of the triggers (and tables, columns,
      views) made with the function (else "other objects depend on it");
    * ``ALTER COLUMN … TYPE`` runs before the views over the column are created, or
      after they are dropped (else "cannot alter type of a column used by a view");
    * a foreign key (or view) over a column that a file drops and adds again is made
      after that file unless it is dropped in between (see :func:`is_released`); its
      use of the column is then the new column's, so the "drops" edge that kept it
      before the drop is taken back (``rebound``).

    The first two only keep the filename order of such pairs (edges from earlier to
    later files), except in a ``misordered`` history (filename order fails already):
    there a type or function dropped while something made with it before is only
    removed by a later file needs that file first; the third is a forward dependency
    only where filename order fails.
    """
    # (kind, name) of a type or function → its DROPs (``dropped`` holds them all, IF
    # EXISTS or not: the dependents stop the drop all the same)
    object_drops: dict[tuple[str, str], list[Event]] = {}
    for kind, name in dropped:
        if kind in ("type", "function"):
            real = [e for e in events[(kind, name)] if e[3][ACTION] == DROP]
            if real:
                object_drops[(kind, name)] = real
    columns = {fact[NAMES][0] for _, fact in retyped}
    redefined = redefined_columns(events, dropped)
    if not object_drops and not columns and not redefined:
        return
    label = {key: object_label(key[0], key[1], default_schema) for key in object_drops}
    # one pass over every file's uses of those types, functions and columns
    for pos, analysis in enumerate(analyses):
        spans: list[Span] | None = None
        for fact in analysis.facts:
            if fact[ACTION] != REF or fact[KIND] not in DEPENDED_ON:
                continue
            name = fact[NAMES][0]
            if fact[KIND] != "column":
                drops = object_drops.get((fact[KIND], name))
                if drops is None:
                    continue
                spans = spans if spans is not None else list(analysis.spans)
                made_here = made_with(analysis, spans, fact[LINE])
                tied = tied_to(made_here, fact[LINE]) if misordered else ()
                for kind, made, _, _ in made_here:
                    if kind in ("column", "trigger"):
                        candidates = [(kind, made), ("relation", made.rsplit(".", 1)[0])]
                        if kind == "column":  # (the use is its default: DROP DEFAULT)
                            candidates.append(("default", made))
                    elif kind == "relation":
                        candidates = [("relation", made)]
                    else:
                        continue
                    candidates = renamed_along(events, candidates, (pos, fact[LINE]))
                    for drop in drops:
                        gone = first_drop(events, candidates, (pos, fact[LINE]),
                                           (drop[0], drop[1]))
                        if gone is None and made in tied and (pos, fact[LINE]) < drop[:2]:
                            # still there at the drop in filename order: in a history
                            # already misordered, its removal sorting after the drop
                            # belongs before it (a forward dependency); only a plain
                            # removal (after DROP … CASCADE, an IF EXISTS one is a no-op)
                            gone = first_drop(events, candidates, (drop[0], drop[1]), END,
                                              plain=True)
                            if gone is not None and gone != drop[0]:
                                add_edge(Edge(gone, drop[0], label[(fact[KIND], name)],
                                              drop[1], 1, True, "frees", drop[1]))
                        elif gone is not None and gone < drop[0]:
                            add_edge(Edge(gone, drop[0], label[(fact[KIND], name)], drop[1],
                                          1, False, "keeps", drop[1]))
            else:
                if name in columns:
                    spans = spans if spans is not None else list(analysis.spans)
                    for kind, view, line, display in made_with(analysis, spans, fact[LINE]):
                        if kind == "relation" and display in ("view", "materialized view"):
                            view_and_retype(pos, line, view, name, retyped, events,
                                             add_edge, default_schema)
                redefiners = redefined.get(name)
                if redefiners:
                    spans = spans if spans is not None else list(analysis.spans)
                    holders = holders_of(name, made_with(analysis, spans, fact[LINE]))
                    for at in redefiners:
                        if at != pos and any(not is_released(h, pos, at, events)
                                             for h in holders):
                            # made after the redefinition in filename order, the edge only
                            # keeps that order (see is_released): a hint that gives way
                            # when it closes a cycle, as when the file making the
                            # holder also creates the column
                            how, at_line = ("uses", 0) if at > pos else ("keeps", fact[LINE])
                            add_edge(Edge(at, pos, object_label("column", name, default_schema),
                                          fact[LINE], fact[COLUMN], at > pos, how, at_line))
                            rebound.add((pos, at))
