"""What one migration file does to the schema: the facts the analyser extracts.

Plain tuples and ``NamedTuple`` values, so that a whole directory's analysis
crosses from forked worker processes (marshal, through a pipe) quickly. On disk, in
the parse cache, they are sealed JSON checked field by field (``calctl.sql.cache``).

Object identities are strings ``"<schema>.<name>"`` in one namespace per
``kind``: ``relation`` (tables, views, materialized views, sequences, indexes
share one in PostgreSQL), ``type``, ``function``, ``schema``, ``extension``,
``column`` (``"<schema>.<table>.<column>"``), ``trigger`` and ``policy``
(``"<schema>.<table>.<name>"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, NamedTuple

# Bump whenever extraction (or what `migrate order/lint` print) changes: cached analyses,
# plans and outputs of an older version are then ignored.
ANALYSER_VERSION = "13"

# action values
CREATE = "create"      # CREATE … (IF NOT EXISTS sets guarded)
REPLACE = "replace"    # CREATE OR REPLACE …: a provider that may also redefine
ALTER = "alter"        # changes an existing object (needs it; provides nothing new)
DROP = "drop"          # DROP … (IF EXISTS sets guarded)
RENAME = "rename"      # names[0] becomes ``new``
REF = "ref"            # needed when the statement runs
WEAK = "weak"          # needed only later (function bodies) or guarded (DO blocks)

PROVIDING = frozenset({CREATE, REPLACE})
USING = frozenset({REF, WEAK})
UNQUALIFIED = "*"


# A fact is a plain tuple (not a NamedTuple) so that thousands of them move between
# worker processes with ``marshal``, and out of the cache's columns with ``zip``,
# without per-object rebuilding.
# Fields, read with the index constants below:
#   action, kind, names (candidate identities, most likely first), line, column,
#   display ("table", "view", "enum" … for messages), guarded (IF [NOT] EXISTS),
#   new (RENAME target identity; for references UNQUALIFIED when the name carried no
#   schema), open (a relation whose columns are not all listed)
Fact = tuple[str, str, tuple[str, ...], int, int, str, bool, str, bool]
ACTION: Final = 0
KIND: Final = 1
NAMES: Final = 2
LINE: Final = 3
COLUMN: Final = 4
DISPLAY: Final = 5
GUARDED: Final = 6
NEW: Final = 7
OPEN: Final = 8


def fact(action: str, kind: str, names: tuple[str, ...], line: int, column: int,
         display: str, guarded: bool = False, new: str = "", open: bool = False) -> Fact:
    return (action, kind, names, line, column, display, guarded, new, open)


class Note(NamedTuple):
    """A problem the analyser saw inside one file (rule code, position, message, hint)."""

    code: str
    line: int
    column: int
    message: str
    hint: str = ""


class Span(NamedTuple):
    """One statement's lines and the rule codes ``-- calctl: ignore`` silences for it."""

    first: int
    last: int
    ignores: tuple[str, ...] = ()


# What name resolution needs of one file (see summarise)
Summary = tuple[tuple[Fact, ...], tuple[Fact, ...], tuple[Fact, ...]]


class FileAnalysis(NamedTuple):
    facts: tuple[Fact, ...]
    notes: tuple[Note, ...]
    spans: tuple[Span, ...]
    file_ignores: tuple[str, ...]
    approximate: bool
    transaction: bool
    statements: int
    summary: Summary | None = None  # summarise(facts), made where the file is analysed


def summarise(facts: Sequence[Fact]) -> Summary:
    """The part of name resolution that needs only this file, done where the file is
    analysed (in parallel) instead of in the serial resolution of the whole directory:

    * references to objects the file does not provide itself: the distinct (kind,
      candidates) references, first occurrence, plain or weak;
    * plain column references no statement of the file provides, distinct by
      candidates, first occurrence;
    * the facts that provide, drop or rename something, in order.
    """
    # (identities kept per kind, so a test is one set lookup without a key tuple; fact
    # fields by literal index and the action values in locals: this runs once per file)
    ref, rename, drop, using, providing = REF, RENAME, DROP, USING, PROVIDING
    provided: dict[str, set[str]] = {}
    renamed: dict[str, set[str]] = {}
    changes: list[Fact] = []
    uses: list[Fact] = []
    for fact in facts:
        action = fact[0]
        if action in using:
            uses.append(fact)
        elif action in providing:
            kind = fact[1]
            if kind in provided:
                provided[kind].add(fact[2][0])
            else:
                provided[kind] = {fact[2][0]}
            changes.append(fact)
        elif action == rename:
            renamed.setdefault(fact[1], set()).add(fact[7])
            changes.append(fact)
        elif action == drop:
            changes.append(fact)
    own = provided
    if renamed:
        own = {kind: set(idents) for kind, idents in provided.items()}
        for kind, idents in renamed.items():
            own.setdefault(kind, set()).update(idents)
    own_relations = own.get("relation")
    provided_columns = provided.get("column")
    refs: list[Fact] = []
    columns: list[Fact] = []
    seen: set[tuple[str, tuple[str, ...]]] = set()
    seen_columns: set[tuple[str, ...]] = set()
    for fact in uses:
        kind = fact[1]
        names = fact[2]
        key = (kind, names)
        if key not in seen:
            seen.add(key)
            mine = own.get(kind)
            if not ((mine is not None and not mine.isdisjoint(names))
                    or (kind == "type" and own_relations is not None
                        and not own_relations.isdisjoint(names))):
                refs.append(fact)
        if kind == "column" and fact[0] == ref and names not in seen_columns:
            seen_columns.add(names)
            if provided_columns is None or provided_columns.isdisjoint(names):
                columns.append(fact)
    return tuple(refs), tuple(columns), tuple(changes)


def display_name(identity: str, default_schema: str = "public") -> str:
    """``public.users`` → ``users``; other schemas stay qualified."""
    prefix = default_schema + "."
    return identity[len(prefix):] if identity.startswith(prefix) else identity


def to_plain(analysis: FileAnalysis) -> tuple[Any, ...]:
    """The analysis as nested plain tuples, for marshal through a pipe to the process
    that forked this one. Never for a file: what is read back from disk goes through
    :func:`calctl.sql.cache.decode_shard`, which checks every field."""
    return (analysis.facts, tuple(map(tuple, analysis.notes)),
            tuple(map(tuple, analysis.spans)), analysis.file_ignores, analysis.approximate,
            analysis.transaction, analysis.statements, analysis.summary)


def from_plain(data: tuple[Any, ...]) -> FileAnalysis:
    """The analysis :func:`to_plain` made in a process this one forked (trusted as this
    process's own memory: a wrong shape raises TypeError or ValueError)."""
    facts, notes, spans, ignores, approximate, transaction, statements, summary = data
    return FileAnalysis(facts, tuple(Note(*n) for n in notes), tuple(Span(*x) for x in spans),
                        ignores, approximate, transaction, statements, summary)
