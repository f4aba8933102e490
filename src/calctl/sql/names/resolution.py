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

from collections.abc import Callable, Collection, Sequence
from functools import partial

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
    summarise,
)
from calctl.sql.names.alternating import alternating_chains
from calctl.sql.names.cascade import key_removal_edges, key_users_before_column_drops
from calctl.sql.names.columns import (
    VIEWS,
    added_to_old_table,
    bind_columns,
    choose_provider,
    lost_with_table,
    readded_columns,
    table_made_later,
    through_rename,
)
from calctl.sql.names.created_twice import creators_after_drops
from calctl.sql.names.definitions import by_definition, other_definition
from calctl.sql.names.holders import surviving_definition
from calctl.sql.names.labels import (
    Signatures,
    added_if_missing,
    argued_label,
    compared_label,
    label_conflicts,
    label_edges,
    label_lifetimes,
    labels_known,
    signatures_of,
    unlisted_edges,
)
from calctl.sql.names.late_creators import drops_before_late_creators
from calctl.sql.names.model import (
    DROPS_OF,
    Edge,
    Event,
    Missing,
    Resolution,
    Uses,
    object_label,
)
from calctl.sql.names.overloads import Overloads
from calctl.sql.names.providers import (
    NEVER_MISSING,
    alternatives,
    chain_providers,
    closed_table,
    constraint_indexes,
    dependents_of,
    find_duplicates,
    gone_by_name,
    plain_before_guarded,
    recreations,
)
from calctl.sql.names.referenced_keys import keys_before_key_changes
from calctl.sql.names.versions import after_versions
from calctl.sql.names.view_columns import views_after_column_drops

# the kinds named ``table.name``, which come with a table a rename gives a new name
MEMBERS = frozenset({"column", "trigger", "constraint"})


def _defines(e: Event) -> bool:
    """Whether a later event may provide an object to a use before it: not a drop, nor a
    guessed name (an unnamed index's, which binds only a use after it)."""
    return e[2] != DROP and not (e[3][OPEN] and e[3][DISPLAY] == "index")


def _version_replaced(evs: list[Event], i: int) -> bool:
    """Whether ``evs[i]`` drops a function's name only beside one version's drop (``DROP
    FUNCTION IF EXISTS f(int)``: guarded) and its file defines the name again next."""
    return evs[i][3][GUARDED] and i + 1 < len(evs) and evs[i + 1][0] == evs[i][0] \
        and evs[i + 1][2] != DROP


def _new_version(evs: list[Event], pos: int, line: int) -> bool:
    """Whether file ``pos`` drops the function by name on ``line`` and defines it again
    after: a new version (histories that change a function drop and define it in file
    after file). The drop needs some version before it, any of them — binding it to the
    one whose file sorts nearest made later versions, or the files they need, wait for
    each other in a history numbered at random (graphile-worker), so it is a choice
    among the function's other definers, with no "uses" edge and no wait for the next
    version's drop."""
    return _drops_here(evs, pos, line) and any(
        e[0] == pos and e[1] > line and e[2] != DROP for e in evs)


def _first_version(evs: list[Event], pos: int, at: int) -> int:
    """For a new version's drop that no version sorts before: the function's one
    definition made without dropping it first in its file (its first version, which
    every version's drop follows), else ``at`` (the first later definition)."""
    first = [i for i, e in enumerate(evs) if e[2] != DROP and e[0] != pos
             and not any(d[0] == e[0] and d[1] <= e[1] and d[2] == DROP for d in evs)]
    return first[0] if len(first) == 1 else at


def _definers(evs: list[Event], first: int, pos: int) -> tuple[int, ...]:
    """``first``, then every other file defining the object, but ``pos``."""
    out = [first]
    for e in evs:
        if e[2] != DROP and e[0] != pos and e[0] not in out:
            out.append(e[0])
    return tuple(out)


def _before_next_drop(evs: list[Event], at: int, pos: int, fact: Fact, provider: int,
                      label: str, avoid: Collection[tuple[int, int, str]],
                      add_edge: Callable[[Edge], None]) -> None:
    """A ``drops`` edge from the file ``pos`` using (``fact``) the definition ``evs[at]``
    (made by ``provider``) to the first other file dropping or renaming the object after
    it."""
    for e in evs[at + 1:]:
        if e[0] != pos and e[2] == DROP:
            if not avoid or ((provider, e[0], DROPS_OF + label) not in avoid
                             and (pos, e[0], label) not in avoid):
                add_edge(Edge(pos, e[0], label, fact[LINE], fact[COLUMN], pos > e[0],
                              "drops", e[1]))
            return


def _drops_here(evs: list[Event], pos: int, line: int) -> bool:
    """Whether file ``pos`` drops the object on ``line`` (a use that is a drop by name)."""
    return any(e[0] == pos and e[1] == line and e[2] == DROP for e in evs)


def resolve(analyses: Sequence[FileAnalysis], *, known: Sequence[str] = (),
            default_schema: str = "public",
            avoid: Collection[tuple[int, int, str]] = (),
            misordered: bool | None = None) -> Resolution:
    """Edges between files (positions are indexes into ``analyses``, filename order).

    ``avoid``: (provider, user, object) bindings to make another way when the object has
    another definition (see :func:`calctl.sql.names.definitions.other_definition`).
    ``misordered``: whether filename order fails (some use needs a file sorting after
    it); by default, whether it does for ``analyses``' order (a rebinding reads the
    files in another order, but the history is the one filename order gave)."""
    events: dict[tuple[str, str], list[Event]] = {}
    extensions: dict[str, list[tuple[int, int]]] = {}
    # one pass over what each file provides, drops and renames: the events of each
    # object (the per-file part, summarise(), ran where the files were analysed)
    per_file: list[tuple[tuple[Fact, ...], tuple[Fact, ...]]] = []
    retyped: list[tuple[int, Fact]] = []  # ALTER COLUMN … TYPE
    # what drops and renames touched, for the rules that look at few objects: (kind,
    # identity) of unguarded DROP/RENAME-away events, and of every DROP of a type or
    # function (IF EXISTS or by arguments: what depends on it stops the drop all the same)
    dropped: set[tuple[str, str]] = set()
    indexes: list[Fact] = []  # indexes that belong to a constraint
    linked: list[tuple[int, Fact]] = []  # drops of constraints, renames
    enum_labels: list[tuple[int, int, Fact]] = []  # enum labels made or added
    cascades: list[tuple[int, Fact]] = []  # DROP TABLE … CASCADE
    cascading = False  # any DROP … CASCADE (of a schema, a type, a function…)
    views: dict[tuple[str, str], None] = {}  # (kind, identity) of each view made
    columns_dropped = False  # any DROP COLUMN (IF EXISTS too)
    for pos, analysis in enumerate(analyses):
        facts = analysis.facts
        fact_at = facts.__getitem__  # the summary holds positions in the file's facts
        ref_at, column_at, change_at = analysis.summary or summarise(facts)
        refs, column_refs = tuple(map(fact_at, ref_at)), tuple(map(fact_at, column_at))
        changes = map(fact_at, change_at)
        per_file.append((refs, column_refs))
        for fact in changes:
            action = fact[ACTION]
            if action == ALTER:
                retyped.append((pos, fact))
            elif action in PROVIDING:
                if fact[KIND] == "label":  # (enum labels: see label_edges)
                    enum_labels.append((pos, fact[LINE], fact))
                    continue
                provided = (fact[KIND], fact[NAMES][0])
                bucket = events.get(provided)
                if bucket is None:
                    events[provided] = [(pos, fact[LINE], action, fact)]
                else:
                    bucket.append((pos, fact[LINE], action, fact))
                if fact[KIND] == "extension":
                    extensions.setdefault(fact[NAMES][0], []).append((pos, fact[LINE]))
                elif fact[DISPLAY] == "view":
                    views[provided] = None
                elif fact[NEW]:  # the index of a constraint: provides the constraint too
                    indexes.append(fact)
                    events.setdefault(("constraint", fact[NEW]), []).append(
                        (pos, fact[LINE], action, fact))
            elif action == DROP:
                for name in fact[NAMES]:
                    events.setdefault((fact[KIND], name), []).append((pos, fact[LINE], DROP, fact))
                if not fact[GUARDED] or fact[KIND] in ("type", "function"):
                    dropped.update((fact[KIND], name) for name in fact[NAMES])
                if fact[KIND] == "constraint":
                    linked.append((pos, fact))
                elif fact[KIND] == "column":
                    columns_dropped = True
                if fact[OPEN]:
                    cascading = True
                    if fact[KIND] == "relation":
                        cascades.append((pos, fact))
            else:  # RENAME
                linked.append((pos, fact))
                if not fact[GUARDED]:
                    dropped.update((fact[KIND], name) for name in fact[NAMES])
                for name in fact[NAMES]:
                    events.setdefault((fact[KIND], name), []).append((pos, fact[LINE], DROP, fact))
                events.setdefault((fact[KIND], fact[NEW]), []).append(
                    (pos, fact[LINE], RENAME, fact))

    if indexes and linked:
        constraint_indexes(events, indexes, linked)
    # enum labels, for the uses of a label (a cast of a literal to the type); kept apart
    # from the other objects' events, which the label rules read by type (labels.py)
    label_events = label_lifetimes(enum_labels, events) if enum_labels else {}
    # (definition, file adding a label it already has, type): a binding to make otherwise
    has_label = label_conflicts(enum_labels, events) if enum_labels else set()
    # tables dropped or renamed away (unguarded): their columns go with them
    rebuilt = {name for kind, name in dropped if kind == "relation"}
    rebound: set[tuple[int, int]] = set()  # (adding file, dropping file): see below
    misbound: set[tuple[int, int, str]] = set()  # uses of a rebuilt table: see below
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
            label = labels[(display, identity)] = object_label(display, identity, default_schema)
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
    users: Uses = {}
    by_bare: dict[tuple[str, str], str] | None = None  # built when first needed

    def elsewhere_of(kind: str, bare: str) -> str | None:
        nonlocal by_bare
        if by_bare is None:
            by_bare = {}
            for (kind_, identity), evs_ in events.items():
                if kind_ != "column" and "." in identity and any(e[2] != DROP for e in evs_):
                    by_bare.setdefault((kind_, identity.split(".", 1)[1]), identity)
        return by_bare.get((kind, bare))

    retyped_names: set[str] | None = None

    def retyped_columns() -> set[str]:
        nonlocal retyped_names
        if retyped_names is None:
            retyped_names = {f[NAMES][0] for _, f in retyped}
        return retyped_names

    signatures: Signatures | None = None  # (see argued_label)
    if_added: list[Edge] = []  # uses of a label only an ADD VALUE IF NOT EXISTS after gives
    new_edge = tuple.__new__  # an Edge without its Python-level __new__ (thousands made)
    overloads: Overloads | None = None  # made at the first use of an overload
    for pos, (refs, column_refs) in enumerate(per_file):
        for fact in refs:
            kind = fact[KIND]
            if kind == "compared":  # (a column compared with a literal: see labels.py)
                found = compared_label(fact, pos, analyses, events, retyped)
                if found is None:
                    continue
                fact, kind = found, "label"
            elif kind == "argued":  # (a literal passed to a function: see labels.py)
                if signatures is None:
                    signatures = signatures_of(events)
                found = argued_label(fact, signatures)
                if found is None:
                    continue
                fact, kind = found, "label"
            names = fact[NAMES]
            chosen, evs = choose_provider(fact, events if kind != "label" else label_events)
            if kind == "overload":
                if overloads is None:
                    overloads = Overloads.of(events)
                if overloads.by_name(chosen, evs, pos, events):  # (see overloads.py)
                    fact = fact._replace(kind="function",
                                         names=tuple(n.partition("(")[0] for n in names))
                    kind, names = "function", fact[NAMES]
                    chosen, evs = choose_provider(fact, events)
            elif kind == "label" and evs is not None and not labels_known(
                    fact, evs, pos, events, label_events):
                adder = added_if_missing(evs, pos)
                if adder is not None and chosen is not None:  # (see labels.py; kept if
                    # the history is misordered)
                    if_added.append(Edge(adder[0], pos, label_of(fact[DISPLAY], chosen),
                                         fact[LINE], fact[COLUMN], adder[0] > pos, "keeps",
                                         adder[1]))
                continue
            if evs is not None and len(evs) == 1 and chosen is not None:
                only = evs[0]
                if only[0] < pos and only[2] != DROP:
                    # the common case: the one event of the object is an earlier file's
                    # definition (nothing drops it, so the use need not be remembered)
                    add_edge(new_edge(Edge, (only[0], pos, label_of(fact[DISPLAY], chosen),
                                             fact[LINE], fact[COLUMN], False, "uses", 0)))
                    if rebuilt and kind == "column" and fact[ACTION] == REF:
                        lost_with_table(pos, fact[LINE], only, chosen, rebuilt, events, add_edge,
                                         default_schema, rebound, misbound)
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
                if kind in MEMBERS and not weak and any(
                        through_rename(pos, fact, name, events, add_edge,
                                       partial(label_of, fact[DISPLAY])) for name in names):
                    continue  # (no file makes the member under the table's new name)
                if weak or kind in NEVER_MISSING or is_known(names[0]):
                    continue  # columns without a provider: see bind_columns
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
                result.missing.append(Missing(pos, object_label(fact[DISPLAY], names[0],
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
            if (avoid or has_label) and last is not None and last[2] != DROP:
                label = label_of(fact[DISPLAY], chosen)
                banned = {e[0] for e in evs if (e[0], pos, label) in avoid
                          or (e[0], pos, chosen) in has_label}
                if last[0] in banned:
                    other = other_definition(evs, at, pos, banned)
                    if other is not None:
                        last, at = (evs[other], other) if evs[other][0] < pos else (None, -1)
            if last is not None and last[2] != DROP and not weak and kind == "relation" \
                    and last[3][DISPLAY] in VIEWS:
                table = table_made_later(pos, fact, evs, at, analyses[pos])
                if table is not None:  # ADD COLUMN needs a table, not the view before it
                    add_edge(Edge(table[0], pos, label_of(fact[DISPLAY], chosen),
                                  fact[LINE], fact[COLUMN], table[0] > pos))
                    continue
            if last is not None and last[2] != DROP and not weak and dropped \
                    and (kind, chosen) in dropped and kind in ("type", "relation"):
                instead = surviving_definition(pos, fact, evs, at, analyses[pos], events,
                                               retyped_columns())
                if instead is not None:  # a column that outlives the definition's drop
                    add_edge(Edge(instead[0], pos, label_of(fact[DISPLAY], chosen),
                                  fact[LINE], fact[COLUMN], instead[0] > pos))
                    continue
            if last is not None and last[2] != DROP:
                # the common case: a use of an object an earlier file provides
                label = label_of(fact[DISPLAY], chosen)
                if kind == "function" and _new_version(evs, pos, fact[LINE]):
                    result.choices.append((_definers(evs, last[0], pos), pos))
                    continue
                add_edge(Edge(last[0], pos, label, fact[LINE], fact[COLUMN], False))
                if rebuilt and kind == "column" and not weak:
                    lost_with_table(pos, fact[LINE], last, chosen, rebuilt, events, add_edge,
                                     default_schema, rebound, misbound)
                if last[2] == CREATE and last[3][GUARDED]:
                    result.choices.append((alternatives(evs, at), pos))
                use = users.get((kind, chosen, last[0]))
                if use is None:
                    use = users[(kind, chosen, last[0])] = (evs, [])
                use[1].append((pos, label, fact))
                # a later DROP/RENAME of the object must stay after this use
                # (after a binding avoid moved to an earlier definition, that drop may
                # sort before this file)
                for i, e in enumerate(evs[at + 1:], at + 1):
                    if e[0] != pos and e[2] == DROP:
                        if kind == "function" and _version_replaced(evs, i) and (
                                weak or _drops_here(evs, pos, fact[LINE])):
                            continue  # the name stays, and this use needs no version
                        if avoid and ((last[0], e[0], DROPS_OF + label) in avoid
                                      or (pos, e[0], label) in avoid):
                            continue  # that file drops another definition (see avoid)
                        add_edge(Edge(pos, e[0], label, fact[LINE], fact[COLUMN], pos > e[0],
                                      "drops", e[1]))
                        break
                continue
            if last is None and kind in MEMBERS and through_rename(
                    pos, fact, chosen, events, add_edge, partial(label_of, fact[DISPLAY])):
                continue
            if kind == "constraint" and not closed_table(chosen, pos, events):
                weak = True  # its table's constraints are not all known here
            at = next((i for i, e in enumerate(evs) if e[0] > pos and _defines(e)), -1)
            if at >= 0 and kind == "function" and _new_version(evs, pos, fact[LINE]):
                at = _first_version(evs, pos, at)
            if avoid and at >= 0 and (evs[at][0], pos, label_of(fact[DISPLAY], chosen)) in avoid:
                label = label_of(fact[DISPLAY], chosen)  # (a later definition on a cycle)
                at = next((i for i, e in enumerate(evs) if e[0] > pos and _defines(e)
                           and (e[0], pos, label) not in avoid), at)
            later = evs[at] if at >= 0 else None
            if later is not None and kind == "relation" and not weak \
                    and later[3][DISPLAY] in VIEWS:
                later = table_made_later(pos, fact, evs, at, analyses[pos]) or later
            if later is not None:
                if not weak:
                    label = object_label(fact[DISPLAY], chosen, default_schema)
                    add_edge(Edge(later[0], pos, label, fact[LINE], fact[COLUMN], True))
                    if later[2] == CREATE and later[3][GUARDED]:
                        result.choices.append((alternatives(evs, at), pos))
                    users.setdefault((kind, chosen, later[0]), (evs, []))[1].append(
                        (pos, label, fact))
                    if kind != "function" and later is evs[at]:
                        # and before that definition's drop, as a use after it would be
                        _before_next_drop(evs, at, pos, fact, later[0], label, avoid,
                                          add_edge)
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
                label = object_label(fact[DISPLAY], chosen, default_schema)
                add_edge(Edge(evs[before[-1]][0], pos, label, fact[LINE], fact[COLUMN], False))
                add_edge(Edge(pos, dropper[0], label, fact[LINE], fact[COLUMN], True, "drops",
                              dropper[1]))
                continue
            if any(e[0] == pos and e[2] != DROP for e in evs):
                continue  # provided by this file itself, after this use (its own business)
            result.missing.append(Missing(
                pos, object_label(fact[DISPLAY], chosen, default_schema), fact[LINE], fact[COLUMN],
                "It is dropped or renamed before this file runs; use the new name, or "
                "recreate it first."))
        bind_columns(pos, column_refs, events, result, is_known, default_schema)

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
                if user != dropping and (not avoid or (user, dropping, label) not in avoid):
                    add_edge(Edge(user, dropping, label, fact[LINE], fact[COLUMN],
                                  user > dropping, "drops", drop_line))

    # (filename order fails here already; the edges added below do not change that)
    misordered_so_far = misordered if misordered is not None else any(e.forward for e in edges)
    preceding: set[tuple[int, int]] = set()  # (creator, dropping file): see late_creators
    if misordered_so_far:
        preceding = drops_before_late_creators(analyses, events, users, edges, add_edge,
                                               default_schema)
    dependents_of(analyses, events, dropped, retyped, add_edge, default_schema, rebound,
                  misordered_so_far)
    if enum_labels:
        label_edges(enum_labels, events, add_edge, default_schema)
        unlisted_edges(enum_labels, events, analyses, add_edge, default_schema, rebound)
    if linked:
        key_removal_edges(linked, cascades, analyses, events, add_edge, default_schema)
    wrong = readded_columns(events, dropped, add_edge, default_schema) | misbound
    if wrong:  # the drop used the table's own column, not the one added after it; a
        # use of a rebuilt table's column is the old table's (misbound)
        result.edges = edges = [e for e in edges
                                if (e.provider, e.user, e.object) not in wrong]
    if rebound:  # the adding file runs after the rebuild, not before its drop
        result.edges = edges = [e for e in edges if e.kind != "drops"
                                or (e.provider, e.user) not in rebound]
    # only objects with more than one event can be redefined or created twice
    repeated = [(kind, evs) for kind, evs in events.items() if len(evs) > 1]
    # (in a history filename order already fails, see chain_providers)
    if misordered is None:
        misordered = any(edge.forward for edge in edges)
    if misordered:
        for edge in if_added:
            add_edge(edge)
        added_to_old_table(repeated, events, add_edge, default_schema)
        plain_before_guarded(repeated, events, add_edge, default_schema)
    chain_providers(repeated, add_edge, default_schema,
                    gone=gone_by_name(events) if misordered else None, cascading=cascading)
    if misordered:
        after_versions(events, add_edge, default_schema)
    removes: dict[tuple[str, int], tuple[int, int]] = {}  # see created_twice
    if repeated:  # (see created_twice)
        wrong, readded, removes = creators_after_drops(analyses, events, repeated, rebuilt,
                                                       edges, default_schema)
        if wrong:
            result.edges = edges = [e for e in edges
                                    if (e.provider, e.user, e.object) not in wrong]
        edges.extend(readded)  # (not add_edge: an edge removed above may come back)
        wrong, readded = alternating_chains(analyses, events, repeated, rebuilt, edges,
                                            default_schema)
        if wrong:
            result.edges = edges = [e for e in edges
                                    if (e.provider, e.user, e.object) not in wrong]
        edges.extend(readded)
    if misordered and views and columns_dropped and not cascading:  # (after created_twice:
        # it sets aside soft edges)
        wrong, held = views_after_column_drops(views, analyses, events,
                                               default_schema)
        if wrong:
            result.edges = edges = [e for e in edges if e.kind != "drops"
                                    or (e.provider, e.user, e.object) not in wrong]
        edges.extend(held)
    if misordered and linked:
        edges.extend(key_users_before_column_drops(linked, analyses, events, edges,
                                                   default_schema))
        edges.extend(keys_before_key_changes(linked, analyses, events, default_schema))
    recreations(repeated, events, add_edge, default_schema)
    if preceding:  # the drop no longer follows the definition filename order put after it
        result.edges = edges = [e for e in edges if e.kind != "redefines"
                                or (e.user, e.provider) not in preceding]
    result.duplicates.extend(find_duplicates(repeated, default_schema))
    result.edges = by_definition(analyses, events, result.edges, default_schema, removes)
    return result



def extension_of_name(extension: str) -> bool:
    """True for an extension this module has no object list for."""
    from calctl.sql.extensions import EXTENSION_OBJECTS

    return extension not in EXTENSION_OBJECTS and extension not in ("plpgsql",)
