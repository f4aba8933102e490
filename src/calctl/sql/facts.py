"""What one migration file does to the schema: the facts the analyser extracts.

``NamedTuple`` values read by field name; a whole directory's analysis crosses from
forked worker processes as plain tuples (marshal, through a pipe: :func:`to_plain`,
derived from the fields). On disk, in
the parse cache, they are sealed JSON checked field by field (``calctl.sql.cache``).

Object identities are strings ``"<schema>.<name>"`` in one namespace per
``kind``: ``relation`` (tables, views, materialized views, sequences, indexes
share one in PostgreSQL), ``type``, ``function``, ``schema``, ``extension``,
``column`` (``"<schema>.<table>.<column>"``), ``trigger`` and ``policy``
(``"<schema>.<table>.<name>"``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Final, NamedTuple

try:  # hashlib.blake2b itself, without hashlib loading OpenSSL first (~5 ms)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

# Bump whenever extraction (or what `migrate order/lint` print) changes: cached analyses,
# plans and outputs of an older version are then ignored.
ANALYSER_VERSION = "71"
# A hash of sql/ and the migrate renderers when ANALYSER_VERSION was last considered
# (tests/sql/test_analyser_version.py fails when they change without updating this).
ANALYSER_SOURCES = "90d58171904e7cbf"

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
# A weak fact of this kind says how a relation takes writes: made here as a view
# PostgreSQL cannot write (a join, a set operation, DISTINCT, GROUP BY, LIMIT…: "cannot
# update view"), or, with ``open``, given a DO INSTEAD rule or an INSTEAD OF trigger
# (which make any view writable). It names nothing to provide.
WRITES = "writes"
# A weak fact of this kind names an enum label (type.label) a file says it removes: the
# warning Prisma writes above an enum rebuild (calctl.sql.extract.prisma).
REMOVES = "removes"
# A weak fact of this kind names a table a view reads with ``*`` (``SELECT *``, ``t.*``):
# the view holds every column the table has when the view is made (calctl.sql.names.
# view_columns).
STAR = "star"
# in the names of a ``compared`` fact (a column compared with a literal): column US literal
COMPARED = "\x1f"


class Fact(NamedTuple):
    """One thing a statement does to (or needs of) one object.

    Read by name (``fact.names[0]``). Built from plain tuples with :data:`as_fact` (C
    calls only: the extractor makes hundreds of thousands of them)."""

    action: str
    kind: str
    names: tuple[str, ...]   # candidate identities, most likely first
    line: int
    column: int
    display: str             # "table", "view", "enum" … for messages
    guarded: bool = False    # IF [NOT] EXISTS
    new: str = ""            # RENAME target identity; for references UNQUALIFIED when the
                             # name carried no schema; for a constraint's index, the
                             # constraint (one fact provides both)
    open: bool = False       # a relation whose columns are not all listed; an index
    #                          whose name PostgreSQL chose (CREATE INDEX ON t …), a guess;
    #                          a DROP … CASCADE (what depends on the object goes with it);
    #                          on a reference, the table an INSERT, UPDATE, DELETE or
    #                          MERGE writes, or the type a function returns; on a WRITES
    #                          fact, writes are routed (see WRITES)


# a plain 9-tuple as a Fact without the Python-level __new__ (the tuple is trusted: ours)
as_fact: Callable[[tuple[Any, ...]], Fact] = partial(tuple.__new__, Fact)

# What the extractor builds: a Fact's fields as a plain tuple (made a Fact by as_fact).
PlainFact = tuple[str, str, tuple[str, ...], int, int, str, bool, str, bool]

# Field positions, for code that indexes facts in a hot loop (names.resolve); prefer names.
ACTION: Final = 0
KIND: Final = 1
NAMES: Final = 2
LINE: Final = 3
COLUMN: Final = 4
DISPLAY: Final = 5
GUARDED: Final = 6
NEW: Final = 7
OPEN: Final = 8
if Fact._fields != ("action", "kind", "names", "line", "column", "display", "guarded",
                    "new", "open"):  # pragma: no cover - a new field: renumber the above
    raise ImportError("calctl.sql.facts: the field positions do not match Fact")


def fact(action: str, kind: str, names: tuple[str, ...], line: int, column: int,
         display: str, guarded: bool = False, new: str = "", open: bool = False) -> Fact:
    return as_fact((action, kind, names, line, column, display, guarded, new, open))


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


# What name resolution needs of one file (see summarise): positions in its facts
Summary = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


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
    analysed (in parallel) instead of in the serial resolution of the whole directory;
    each part as positions in ``facts`` (what the pipe and the cache carry as they are):

    * references to objects the file does not provide itself: the distinct (kind,
      candidates) references, the first plain occurrence, else the first weak one (a
      guarded rename — in a DO block's branch, ``IF EXISTS`` — may not run: a use of the
      new name after it still refers, and binds to another file's definition if any);
    * plain column references no statement of the file provides, distinct by
      candidates, first occurrence;
    * the facts that provide, drop or rename something, or change a column's type, in
      order.
    """
    # (identities kept per kind, so a test is one set lookup without a key tuple; the
    # action values in locals: this runs once per file)
    ref, rename, drop, using, providing = REF, RENAME, DROP, USING, PROVIDING
    # identity → the first line the file provides it at: a use on an earlier line (a
    # column dropped and added again, ``DROP COLUMN c; ADD COLUMN c``) still needs the
    # object from an earlier file
    provided: dict[str, dict[str, int]] = {}
    renamed: dict[str, dict[str, int]] = {}
    changes: list[int] = []
    uses: list[int] = []
    for at, fact in enumerate(facts):
        action = fact.action
        if action in using:
            uses.append(at)
        elif action in providing:
            kind = fact.kind
            if kind in provided:
                provided[kind].setdefault(fact.names[0], fact.line)
            else:
                provided[kind] = {fact.names[0]: fact.line}
            if fact.new:  # an index that is also its constraint
                provided.setdefault("constraint", {}).setdefault(fact.new, fact.line)
            changes.append(at)
        elif action == rename:
            if not fact.guarded:  # (a guarded one may not run: the name is another's)
                renamed.setdefault(fact.kind, {}).setdefault(fact.new, fact.line)
            changes.append(at)
        elif action == drop or (action == ALTER and fact.kind == "column"):
            changes.append(at)
    own = provided
    if renamed:
        own = {kind: dict(idents) for kind, idents in provided.items()}
        for kind, idents in renamed.items():
            mine = own.setdefault(kind, {})
            for ident, line in idents.items():
                if line < mine.get(ident, line + 1):
                    mine[ident] = line
    own_relations = own.get("relation")
    provided_columns = provided.get("column")
    refs: list[int] = []
    columns: list[int] = []
    # (kind, candidates) → where in ``refs`` its reference is, if a weak one: a plain use
    # later in the file takes its place (a trigger function's body reads its table, then
    # `CREATE TRIGGER … ON` that table needs it when it runs)
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    seen_columns: set[tuple[str, ...]] = set()
    for at in uses:
        fact = facts[at]
        kind = fact.kind
        names = fact.names
        key = (kind, names)
        weak_at = seen.get(key)
        if weak_at is None or (weak_at >= 0 and fact.action == ref):
            seen[key] = -1
            lines = own.get(kind)
            if not ((lines is not None and _before(lines, names, fact.line))
                    or (kind == "type" and own_relations is not None
                        and _before(own_relations, names, fact.line))):
                if weak_at is not None:  # (the plain use takes the weak one's place)
                    refs[weak_at] = at
                else:
                    seen[key] = -1 if fact.action == ref else len(refs)
                    refs.append(at)
        if kind == "column" and fact.action == ref and names not in seen_columns:
            seen_columns.add(names)
            if provided_columns is None or provided_columns.keys().isdisjoint(names):
                columns.append(at)
    return tuple(refs), tuple(columns), tuple(changes)


def _before(lines: dict[str, int], names: tuple[str, ...], line: int) -> bool:
    """Whether one of ``names`` is provided at or before ``line``."""
    for name in names:
        first = lines.get(name)
        if first is not None and first <= line:
            return True
    return False


def display_name(identity: str, default_schema: str = "public") -> str:
    """``public.users`` → ``users``; other schemas stay qualified."""
    prefix = default_schema + "."
    return identity[len(prefix):] if identity.startswith(prefix) else identity


# ---------------------------------------------------------------- the analysis's input


class AnalysisInput(NamedTuple):
    """Everything :func:`calctl.sql.analyse.analyse` reads, and so everything the parse
    cache keys on (:meth:`key` hashes every field: a field added here is in the key).
    ``text`` comes first: it differs per file, the rest is usually one directory's
    settings, hashed once."""

    text: str
    autocommit: bool = False                    # the file's name holds ``.autocommit.``
    search_path: tuple[str, ...] = ("public",)
    defines: tuple[tuple[str, str], ...] = ()   # sorted (name, value) pairs

    @classmethod
    def of(cls, text: str, path: str = "", search_path: Sequence[str] = (),
           defines: dict[str, str] | None = None) -> AnalysisInput:
        """The input for a file at ``path`` under these settings."""
        return cls(text, ".autocommit." in path, tuple(search_path) or ("public",),
                   tuple(sorted((defines or {}).items())))

    def key(self) -> bytes:
        """The parse cache key: a hash of the text, then of every other field and the
        analyser version."""
        digest = blake2b(self.text.encode("utf-8", "surrogatepass"), digest_size=16)
        digest.update(_settings_digest(self[1:]))
        return digest.digest()


_digests: dict[tuple[Any, ...], bytes] = {}


def _settings_digest(rest: tuple[Any, ...]) -> bytes:
    found = _digests.get(rest)
    if found is None:
        text = repr((ANALYSER_VERSION, AnalysisInput._fields[1:], rest))
        found = _digests[rest] = blake2b(text.encode(), digest_size=8).digest()
    return found


# ---------------------------------------------------------------- through a pipe
#
# marshal (what crosses the pipe from a forked process) takes plain tuples only, not
# NamedTuples. Every field of FileAnalysis is carried in _fields order; those holding
# NamedTuples have a codec here (plain → value, value → plain), so a new field crosses
# without anyone listing it, and a new NamedTuple-valued field fails loudly in marshal.
# Facts travel as columns (one zip each way, C only); the summary is positions in the
# file's facts already.


def _facts_plain(facts: tuple[Fact, ...]) -> tuple[Any, ...]:
    return tuple(zip(*facts, strict=True))


def _facts_named(columns: tuple[Any, ...]) -> tuple[Fact, ...]:
    return tuple(map(as_fact, zip(*columns, strict=True)))


def _named_tuples(cls: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    make = partial(tuple.__new__, cls)
    return (lambda values: tuple(map(tuple, values)),
            lambda values: tuple(map(make, values)))


_PIPE: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "facts": (_facts_plain, _facts_named),
    "notes": _named_tuples(Note),
    "spans": _named_tuples(Span),
}


def to_plain(analysis: FileAnalysis) -> tuple[Any, ...]:
    """The analysis as nested plain tuples, for marshal through a pipe to the process
    that forked this one. Never for a file: what is read back from disk goes through
    :func:`calctl.sql.cache.decode_shard`, which checks every field."""
    return tuple([codec[0](value) if (codec := _PIPE.get(name)) else value
                  for name, value in zip(FileAnalysis._fields, analysis, strict=True)])


def from_plain(data: tuple[Any, ...]) -> FileAnalysis:
    """The analysis :func:`to_plain` made in a process this one forked (trusted as this
    process's own memory: a wrong shape raises TypeError or ValueError)."""
    if len(data) != len(FileAnalysis._fields):
        raise ValueError("an analysis of another shape")
    return FileAnalysis(*[codec[1](value) if (codec := _PIPE.get(name)) else value
                          for name, value in zip(FileAnalysis._fields, data, strict=True)])
