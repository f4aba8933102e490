"""Enum labels: which definition of a type an ``ALTER TYPE … ADD VALUE`` belongs to.

A history that rebuilds an enum (Prisma: ``CREATE TYPE "t_new" AS ENUM (…)``, the columns
moved over with ``ALTER … TYPE "t_new" USING …``, ``DROP TYPE "t"``, ``ALTER TYPE "t_new"
RENAME TO "t"``, or ``DROP TYPE`` and ``CREATE TYPE`` again) has several definitions of
one type, each with its own labels. ``ADD VALUE 'v'`` fails ("enum label already exists")
on a definition that has ``v``; so a file adding ``v`` (plainly, not ``IF NOT EXISTS``)
runs before each definition listing ``v``, unless the type is dropped (or renamed away)
between that definition and the adding file. A history whose filename order applies
already has them so (the ``ADD VALUE`` would fail otherwise): these edges only keep that
order, and place the files of a misordered history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from calctl.sql.facts import (
    ACTION,
    COLUMN,
    COMPARED,
    DISPLAY,
    DROP,
    GUARDED,
    KIND,
    LINE,
    NAMES,
    NEW,
    REMOVES,
    RENAME,
    USING,
    Fact,
    FileAnalysis,
)
from calctl.sql.names.model import Edge, Event, object_label

Label = tuple[int, int, Fact]  # (position, line, fact)


def _adders(labels: Sequence[Label], events: dict[tuple[str, str], list[Event]]) -> tuple[
        dict[tuple[str, int], list[tuple[int, set[str]]]], list[tuple[str, str, int, int]]]:
    """The labels each CREATE TYPE lists ((type, position) → (line, labels) per
    definition) and the plain ``ADD VALUE`` s ((type, label, position, line))."""
    listed: dict[tuple[str, int], list[tuple[int, set[str]]]] = {}
    adders: list[tuple[str, str, int, int]] = []
    for pos, line, fact in labels:
        typ, label = split_label(fact[NAMES][0])
        created = [e for e in events.get(("type", typ)) or ()
                   if e[0] == pos and e[1] == line and e[2] != DROP]
        if created:
            entry = listed.setdefault((typ, pos), [])
            if entry and entry[-1][0] == line:
                entry[-1][1].add(label)
            else:
                entry.append((line, {label}))
        elif not fact[GUARDED]:
            adders.append((typ, label, pos, line))
    return listed, adders


def label_conflicts(labels: Sequence[Label],
                    events: dict[tuple[str, str], list[Event]]) -> set[tuple[int, int, str]]:
    """(definition's file, adding file, type) of each definition that already has the
    label a file adds: that file's ``ADD VALUE`` cannot be on that definition."""
    listed, adders = _adders(labels, events)
    out: set[tuple[int, int, str]] = set()
    for typ, label, pos, _ in adders:
        for e in events.get(("type", typ)) or ():
            if e[2] != DROP and e[0] != pos and label in _labels_of(e, typ, listed, events):
                out.add((e[0], pos, typ))
    return out


def label_edges(labels: Sequence[Label], events: dict[tuple[str, str], list[Event]],
                add_edge: Callable[[Edge], None], default_schema: str) -> None:
    """Edges from each file adding a label to the definitions of its type that have it."""
    listed, adders = _adders(labels, events)
    for typ, label, pos, line in adders:
        evs = events.get(("type", typ)) or []
        what = object_label("enum label", f"{typ}.{label}", default_schema)
        for e in evs:
            if e[2] == DROP or e[0] == pos or label not in _labels_of(e, typ, listed, events):
                continue
            if (e[0], e[1]) < (pos, line) and any(
                    (e[0], e[1]) < (d[0], d[1]) < (pos, line) for d in evs if d[2] == DROP):
                continue  # gone before the label is added again
            add_edge(Edge(pos, e[0], what, e[1], 1, pos > e[0], "keeps", e[1]))


def unlisted_edges(labels: Sequence[Label], events: dict[tuple[str, str], list[Event]],
                   analyses: Sequence[FileAnalysis], add_edge: Callable[[Edge], None],
                   default_schema: str, rebound: set[tuple[int, int]]) -> None:
    """Uses of a rebuild of an enum that says which labels it removes (Prisma's warning,
    :mod:`calctl.sql.extract.prisma`) by each file adding a label it neither lists nor
    removes: that label did not exist yet when the rebuild ran, or the rebuild would have
    named it, so the ``ADD VALUE`` is on the rebuilt type (run first, the rebuild would
    silently drop the label). Only for a type every rebuild and rename of which such a
    warning accounts for (a hand-written rebuild may drop labels unnamed); not for a
    label some file says it removes (added, removed, added again), nor across a file
    dropping the type outright (its labels start over).
    (adding file, rebuild) goes into ``rebound``: the adding file's ``ALTER TYPE`` is on
    the rebuilt type, not on the one the rebuild renames away (no ``drops`` edge). So is
    another rebuild listing such a label: it renames this rebuild's type away."""
    listed, adders = _adders(labels, events)
    removed: dict[int, set[str]] = {}  # file → the labels (type.label) it says it removes
    for typ in {typ for typ, _, _, _ in adders}:
        evs = events.get(("type", typ)) or []
        dropped = [e[0] for e in evs if e[2] == DROP and e[3][ACTION] == DROP]
        rebuilds = [e for e in evs if e[2] == RENAME]
        for e in rebuilds:
            if e[0] not in removed:
                removed[e[0]] = {n for f in analyses[e[0]].facts if f[KIND] == REMOVES
                                 for n in f[NAMES][:1]}
        warned = {e[0] for e in rebuilds
                  if any(n.startswith(f"{typ}.") for n in removed[e[0]])}
        if any(e[0] not in warned for e in evs
               if e[2] == RENAME or (e[2] == DROP and e[3][ACTION] == RENAME)):
            continue  # a rebuild or rename no warning accounts for: labels may go there
        said = set().union(*(removed[e[0]] for e in rebuilds)) if rebuilds else set()
        for e in rebuilds:
            has = _labels_of(e, typ, listed, events)
            if not has:
                continue  # not an enum made here
            what = object_label("enum", typ, default_schema)
            for other, label, pos, line in adders:
                if (other == typ and pos != e[0] and label not in has
                        and f"{typ}.{label}" not in said and _together(pos, e[0], dropped)):
                    add_edge(Edge(e[0], pos, what, line, 1, e[0] > pos))
                    rebound.add((pos, e[0]))
            # a later rebuild listing such a label renames this rebuild's type away
            for later in rebuilds:
                if (later[0] != e[0] and _together(later[0], e[0], dropped)
                        and any(f"{typ}.{label}" not in said
                                for label in _labels_of(later, typ, listed, events) - has)):
                    add_edge(Edge(e[0], later[0], what, later[1], 1, e[0] > later[0]))


def label_lifetimes(labels: Sequence[Label], events: dict[tuple[str, str], list[Event]]
                    ) -> dict[tuple[str, str], list[Event]]:
    """The events of each label (``("label", "schema.type.label")`` → events in file
    order): the CREATE TYPE listing it and the ``ADD VALUE`` s, and its type's events.
    A ``DROP TYPE``, or a rename of the type away, ends every label of that definition;
    a rename into the name brings the labels of the enum renamed (every label, when the
    analysis does not know them). So a use of a label (``'paused'::status``, ``WHERE
    status = 'paused'``) binds to a definition that has it, and runs before the file
    that drops it: a rebuild without the label (Prisma's, drizzle's ``DROP TYPE`` and
    ``CREATE TYPE``) waits for the file that still uses it."""
    out: dict[tuple[str, str], list[Event]] = {}
    for pos, line, fact in labels:
        out.setdefault(("label", fact[NAMES][0]), []).append((pos, line, fact[ACTION], fact))
    # a type renamed (``RENAME TO``, ``SET SCHEMA``) takes its labels to the new name
    renames = sorted((e for (kind, _), evs in events.items() if kind == "type"
                      for e in evs if e[2] == RENAME), key=_at)
    for e in renames:
        prefix = e[3][NAMES][0] + "."
        for key in [k for k in out if k[1].startswith(prefix)]:
            out.setdefault(("label", f"{e[3][NEW]}.{key[1][len(prefix):]}"), [e])
    listed: dict[tuple[str, int], list[tuple[int, set[str]]]] | None = None
    for key, evs in out.items():
        typ, label = split_label(key[1])
        type_evs = events.get(("type", typ)) or ()
        if not any(e[2] == DROP for e in type_evs):
            continue
        if listed is None:
            listed = _adders(labels, events)[0]
        more = [e for e in type_evs if e not in evs and (e[2] == DROP or (
            e[2] == RENAME and label in (_labels_of(e, typ, listed, events) or {label})))]
        out[key] = sorted(evs + more, key=_at)
    return out


def _at(event: Event) -> tuple[int, int]:
    return event[0], event[1]


def _together(a: int, b: int, dropped: list[int]) -> bool:
    """Whether no file dropping the type outright sorts between files ``a`` and ``b``."""
    return not any(min(a, b) < d < max(a, b) for d in dropped)


def _labels_of(event: Event, typ: str, listed: dict[tuple[str, int], list[tuple[int, set[str]]]],
               events: dict[tuple[str, str], list[Event]]) -> set[str]:
    """The labels a definition of ``typ`` has when it is made: those its CREATE TYPE
    lists, or, for a type renamed into the name, those of the type renamed (made in the
    same file)."""
    pos, line = event[0], event[1]
    if event[2] == RENAME:
        old = event[3][NAMES][0]
        made = [(e[1]) for e in events.get(("type", old)) or ()
                if e[0] == pos and e[1] < line and e[2] != DROP and e[2] != RENAME]
        if not made:
            return set()
        typ, line = old, made[-1]
    for at, labels in listed.get((typ, pos)) or ():
        if at == line:
            return labels
    return set()




def labels_known(fact: Fact, evs: Sequence[Event], pos: int,
                 events: dict[tuple[str, str], list[Event]],
                 label_events: dict[tuple[str, str], list[Event]]) -> bool:
    """Whether a use of the label ``fact`` names (a cast, at file ``pos``) may bind to a
    label a later file makes: when one is made before it, or when every definition of
    its type before it is an enum whose labels the analysis knows (``CREATE TYPE … AS
    ENUM``, or one renamed into the name from such an enum made in the same file) and the
    later file adds it plainly. Another type renamed into the name, a domain, anything
    else made before, or a later ``ADD VALUE IF NOT EXISTS`` (the label may come another
    way, ``EXECUTE`` in a DO block) leave it unknown: the use binds to nothing rather
    than blame a later file."""
    if any(e[0] < pos and e[2] != DROP for e in evs):
        return True
    later = [e for e in evs if e[0] > pos and e[2] != DROP]
    if later and later[0][3][GUARDED]:
        return False  # ADD VALUE IF NOT EXISTS: the label may come another way before
    typ, label = split_label(fact[NAMES][0])
    return all(e[2] == DROP or (e[3][DISPLAY] == "enum" if e[2] != RENAME
                                else _renamed_enum_without(label, e, events, label_events))
               for e in events.get(("type", typ)) or () if e[0] < pos)


def added_if_missing(evs: Sequence[Event], pos: int) -> Event | None:
    """For a use of a label at file ``pos`` no definition before it gives: the first
    later event giving it, when that is an ``ADD VALUE IF NOT EXISTS`` (which
    :func:`labels_known` does not blame: the label may come another way). In a
    misordered history (a scrambled one), that is the likely adder: resolution keeps the
    use after it with a soft edge, which gives way on a cycle."""
    if any(e[0] < pos and e[2] != DROP for e in evs):
        return None
    later = next((e for e in evs if e[0] > pos and e[2] != DROP), None)
    return later if later is not None and later[3][GUARDED] else None


def _renamed_enum_without(label: str, event: Event,
                          events: dict[tuple[str, str], list[Event]],
                          label_events: dict[tuple[str, str], list[Event]]) -> bool:
    """Whether the type a rename brings into the name is an enum its file made before
    without ``label`` (Prisma drops a label so: ``CREATE TYPE t_new AS ENUM (…)``,
    ``ALTER COLUMN … TYPE t_new``, ``ALTER TYPE t RENAME TO t_old``, ``ALTER TYPE t_new
    RENAME TO t``): its labels are the ones that CREATE lists, and one it lists is no
    later file's to give."""
    pos, line, old = event[0], event[1], event[3][NAMES][0]
    made = [e for e in events.get(("type", old)) or ()
            if e[0] == pos and e[1] < line and e[2] != DROP]
    return (bool(made) and made[-1][2] != RENAME and made[-1][3][DISPLAY] == "enum"
            and not any(e[0] == pos and e[1] <= line and e[2] != DROP
                        for e in label_events.get(("label", f"{old}.{label}")) or ()))


def split_label(identity: str) -> tuple[str, str]:
    """``schema.type.label`` → (``schema.type``, ``label``); a label may hold dots."""
    schema, _, rest = identity.partition(".")
    typ, _, label = rest.partition(".")
    return f"{schema}.{typ}", label



def compared_label(fact: Fact, pos: int, analyses: Sequence[FileAnalysis],
                   events: dict[tuple[str, str], list[Event]],
                   retyped: Sequence[tuple[int, Fact]]) -> Fact | None:
    """A column compared with a literal at file ``pos`` (``status = 'aborting'``, a
    ``compared`` fact): a use of that label of the column's type when the type its
    definition names (or its last ``ALTER COLUMN … TYPE`` before the use) is an enum
    made in this directory (followed through a rename of the type since: ``ALTER TYPE
    t_new RENAME TO t``); else None (a text column, a type unknown here)."""
    labels = []
    for name in fact[NAMES]:
        column, _, literal = name.partition(COMPARED)
        where = _typed_at(column, (pos, fact[LINE]), events, retyped)
        if where is None:
            continue
        enum = _enum_named(analyses[where[0]], where[1], column, events)
        if enum is not None:
            enum = _still_named(enum, where, (pos, fact[LINE]), events)
        if enum is not None:
            labels.append(f"{enum}.{literal}")
    return fact._replace(kind="label", names=tuple(labels)) if labels else None


def _still_named(enum: str, since: tuple[int, int], at: tuple[int, int],
                 events: dict[tuple[str, str], list[Event]]) -> str | None:
    """The name the type ``enum`` given at ``since`` (file, line) has at ``at``: its own,
    or the one a rename (``ALTER TYPE t_new RENAME TO t``) gave it; None when it was
    dropped since, or renamed more than once (the name may be another type's now). A
    guarded rename (a DO block's branch) may not run: the type keeps its name."""
    gone = [e for e in events.get(("type", enum)) or ()
            if since < (e[0], e[1]) < at and e[2] == DROP
            and not (e[3][ACTION] == RENAME and e[3][GUARDED])]  # (may not run)
    if not gone:
        return enum
    if len(gone) > 1 or gone[0][3][ACTION] != RENAME:
        return None
    renamed = gone[0][3][NEW]
    moved = (gone[0][0], gone[0][1])
    return None if any(moved < (e[0], e[1]) < at and e[2] == DROP
                       for e in events.get(("type", renamed)) or ()) else renamed


def _enum_named(analysis: FileAnalysis, line: int, column: str,
                events: dict[tuple[str, str], list[Event]]) -> str | None:
    """The enum made in this directory that the definition of ``column`` on ``line``
    (or its type change) names, if any."""
    return next((t for t in _type_named(analysis, line, column) if _is_enum(t, events)),
                None)


def _is_enum(typ: str, events: dict[tuple[str, str], list[Event]], depth: int = 3) -> bool:
    """Whether some file makes ``typ`` an enum: ``CREATE TYPE … AS ENUM``, or a rename
    (``RENAME TO``, ``SET SCHEMA``) of an enum into the name."""
    return any(e[3][DISPLAY] == "enum" or (
        e[2] == RENAME and depth > 0 and _is_enum(e[3][NAMES][0], events, depth - 1))
        for e in events.get(("type", typ)) or ())


Signatures = tuple[dict[str, list[list[str]]], dict[str, list[str]]]


def argued_label(fact: Fact, signatures: Signatures) -> Fact | None:
    """A string literal passed to a function (an ``argued`` fact: ``f(x, 'EVICTED')``):
    a use of that label of the argument's type when every overload of the function
    with that many arguments (:func:`signatures_of`) names there one enum made in this
    directory; else None."""
    overloads, enums = signatures
    labels = []
    for name in fact[NAMES]:
        function, _, rest = name.partition(COMPARED)
        index, _, literal = rest.partition(COMPARED)
        if not index.isdigit():
            continue  # (a function whose quoted name holds the separator)
        at = int(index)
        types = {sig[at] for sig in overloads.get(function) or () if len(sig) > at}
        if len(types) == 1:
            enum = enums.get(types.pop()) or ()
            if len(enum) == 1:
                labels.append(f"{enum[0]}.{literal}")
    return fact._replace(kind="label", names=tuple(labels)) if labels else None


def signatures_of(events: dict[tuple[str, str], list[Event]]) -> Signatures:
    """function → the argument types (last name part) of each overload made, and each
    enum's bare name → the enums of that name."""
    overloads: dict[str, list[list[str]]] = {}
    enums: dict[str, list[str]] = {}
    for (kind, ident), evs in events.items():
        if kind == "overload":
            function, _, arguments = ident.partition("(")
            overloads.setdefault(function, []).append(
                arguments[:-1].split(",") if arguments[:-1] else [])
        elif kind == "type" and any(e[3][DISPLAY] == "enum" for e in evs):
            enums.setdefault(ident.rpartition(".")[2], []).append(ident)
    return overloads, enums


def _type_named(analysis: FileAnalysis, line: int, column: str) -> tuple[str, ...]:
    """The candidates of the type the definition of ``column`` on ``line`` names: the
    first type used after the column's fact in its statement, when no other mention of
    a column comes between them (``id int, status job_status``: ``int`` makes no fact;
    ``ALTER COLUMN status\n  TYPE job_status`` over two lines; ``TYPE text USING
    status::text`` names none)."""
    span = next((s for s in analysis.spans if s.first <= line <= s.last), None)
    last = span.last if span is not None else line
    here = sorted((f for f in analysis.facts if line <= f[LINE] <= last),
                  key=lambda f: (f[LINE], f[COLUMN]))
    at: tuple[int, int] | None = None  # where the column is defined (a retype: twice)
    for f in here:
        if at is None:
            if (f[LINE] == line and f[KIND] == "column" and f[ACTION] != DROP
                    and f[NAMES][0] == column):
                at = (f[LINE], f[COLUMN])
        elif (f[LINE], f[COLUMN]) != at:
            if f[KIND] == "column":
                return ()
            if f[KIND] == "type" and f[ACTION] in USING:
                return f[NAMES]
    return ()


def _typed_at(column: str, at: tuple[int, int], events: dict[tuple[str, str], list[Event]],
              retyped: Sequence[tuple[int, Fact]]) -> tuple[int, int] | None:
    """(file, line) of the statement that gave ``column`` the type it has at ``at``
    (file, line): its last definition or type change before that, else its first
    definition after it in another file, else in its own."""
    made = [(e[0], e[1]) for e in events.get(("column", column)) or () if e[2] != DROP]
    made += [(pos, f[LINE]) for pos, f in retyped if f[NAMES][0] == column]
    before = [m for m in made if m < at]
    if before:
        return max(before)
    # (the use's own file changes the type only after it: another file's definition
    # is the one it meets, when there is one)
    return min(made, key=lambda m: (m[0] == at[0], m), default=None)
