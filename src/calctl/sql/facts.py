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

from typing import NamedTuple

# Bump whenever extraction changes: cached analyses of an older version are ignored.
ANALYSER_VERSION = "3"

# action values
CREATE = "create"      # CREATE … (IF NOT EXISTS sets guarded)
REPLACE = "replace"    # CREATE OR REPLACE …: a provider that may also redefine
ALTER = "alter"        # changes an existing object (needs it; provides nothing new)
DROP = "drop"          # DROP … (IF EXISTS sets guarded)
RENAME = "rename"      # names[0] becomes ``new``
REF = "ref"            # needed when the statement runs
WEAK = "weak"          # needed only later (function bodies) or guarded (DO blocks)

PROVIDING = frozenset({CREATE, REPLACE})


class Fact(NamedTuple):
    action: str
    kind: str
    names: tuple[str, ...]   # candidate identities, most likely first (search path order)
    line: int
    column: int
    display: str             # "table", "view", "enum", "function" … for messages
    guarded: bool = False    # IF [NOT] EXISTS, missing_ok
    new: str = ""            # RENAME target identity
    open: bool = False       # a relation whose columns are not all listed (LIKE, AS, INHERITS)


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
