"""What one migration file does to the schema: the facts the analyser extracts.

Plain ``NamedTuple`` values so a whole directory's analysis pickles (and loads
from the parse cache) quickly.

Object identities are strings ``"<schema>.<name>"`` in one namespace per
``kind``: ``relation`` (tables, views, materialized views, sequences, indexes
share one in PostgreSQL), ``type``, ``function``, ``schema``, ``extension``,
``column`` (``"<schema>.<table>.<column>"``), ``trigger`` and ``policy``
(``"<schema>.<table>.<name>"``).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple

# Bump whenever extraction (or what `migrate order/lint` print) changes: cached analyses,
# plans and outputs of an older version are then ignored.
ANALYSER_VERSION = "12"

# action values
CREATE = "create"      # CREATE … (IF NOT EXISTS sets guarded)
REPLACE = "replace"    # CREATE OR REPLACE …: a provider that may also redefine
ALTER = "alter"        # changes an existing object (needs it; provides nothing new)
DROP = "drop"          # DROP … (IF EXISTS sets guarded)
RENAME = "rename"      # names[0] becomes ``new``
REF = "ref"            # needed when the statement runs
WEAK = "weak"          # needed only later (function bodies) or guarded (DO blocks)

PROVIDING = frozenset({CREATE, REPLACE})
UNQUALIFIED = "*"


# A fact is a plain tuple (not a NamedTuple) so that thousands of them move between
# worker processes and the cache with ``marshal``, without per-object rebuilding.
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


class FileAnalysis(NamedTuple):
    facts: tuple[Fact, ...]
    notes: tuple[Note, ...]
    spans: tuple[Span, ...]
    file_ignores: tuple[str, ...]
    approximate: bool
    transaction: bool
    statements: int


def display_name(identity: str, default_schema: str = "public") -> str:
    """``public.users`` → ``users``; other schemas stay qualified."""
    prefix = default_schema + "."
    return identity[len(prefix):] if identity.startswith(prefix) else identity


def to_plain(analysis: FileAnalysis) -> tuple[Any, ...]:
    """The analysis as nested plain tuples (marshal-able)."""
    return (analysis.facts, tuple(map(tuple, analysis.notes)),
            tuple(map(tuple, analysis.spans)), analysis.file_ignores, analysis.approximate,
            analysis.transaction, analysis.statements)


def from_plain(data: tuple[Any, ...]) -> FileAnalysis:
    facts, notes, spans, ignores, approximate, transaction, statements = data
    return FileAnalysis(facts, tuple(Note(*n) for n in notes), tuple(Span(*x) for x in spans),
                        ignores, approximate, transaction, statements)
