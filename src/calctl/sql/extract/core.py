"""The extractor's core: positions, names and the emitters every statement family uses.

An :class:`Extractor` (``calctl.sql.extract``) is this base plus one class per statement
family, stacked (``core`` ← ``expressions`` ← ``dml`` ← ``plpgsql`` ← ``functions`` ←
``types`` ← ``tables`` ← ``session``), so each family sees the methods of those below it.
Statements are dispatched through :data:`HANDLERS` (node type → ``st_<node type>``) and
expression nodes through :data:`WALKERS`: plain dicts filled once by the package, looked
up as module globals (no attribute lookups on the hot path).

Positions in pglast trees are byte offsets into the UTF-8 text; :class:`Lines` turns
them into 1-based line and column numbers.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from calctl.sql import catalog
from calctl.sql.facts import (
    ALTER,
    DROP,
    PROVIDING,
    REF,
    RENAME,
    UNQUALIFIED,
    USING,
    WEAK,
)
from calctl.sql.facts import PlainFact as Fact  # plain tuples; analyse() names their fields
from calctl.sql.fastjson import FastJSONError as _FastError
from calctl.sql.fastjson import loads as _fast_loads
from calctl.sql.observations import DESTRUCTIVE, Observation

Node = dict[str, Any]
Scope = dict[str, tuple[str, ...] | None]

LEADING = re.compile(rb"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.S)
DOLLAR = re.compile(rb"\$[A-Za-z_0-9]*\$|'|E'|e'")
NEWLINE = re.compile(b"\n")
BUILTIN_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
# kinds of objects that live in a schema (creating one needs that schema)
SCHEMA_KINDS = frozenset({"relation", "type", "function"})
# (sets, not tuples: a tuple of these module constants is built anew at every test)
CHANGING = frozenset({ALTER, DROP, RENAME})

REL_DISPLAY = {
    "OBJECT_TABLE": "table", "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "materialized view",
    "OBJECT_INDEX": "index", "OBJECT_SEQUENCE": "sequence", "OBJECT_FOREIGN_TABLE": "table",
}
TYPE_DISPLAY = {"OBJECT_TYPE": "type", "OBJECT_DOMAIN": "domain"}
FUNC_DISPLAY = {"OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "procedure",
                 "OBJECT_ROUTINE": "function", "OBJECT_AGGREGATE": "aggregate"}
SEQ_FUNCS = frozenset({"nextval", "currval", "setval"})
ORDERING_CLAUSES = frozenset({"groupClause", "sortClause", "windowClause"})
NO_OUTPUTS: frozenset[str] = frozenset()
SERIAL_TYPES = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})
TYPE_OPTIONS = frozenset({"stype", "mstype", "basetype", "leftarg", "rightarg", "subtype",
                           "element"})


class Unqualified(tuple[str, ...]):
    """Candidates of a name written without a schema (one per search-path schema)."""


# (search path, name parts, kind) → candidates: a directory names the same objects over
# and over, and the answer depends on nothing else
REF_NAMES: dict[tuple[tuple[str, ...], tuple[str, ...], str], tuple[str, ...]] = {}


# pglast's parser module, loaded on first use (calctl.sql.pgparser) and kept here
_parser: Any = None


def load_parser() -> Any:
    global _parser
    if _parser is None:
        from calctl.sql.pgparser import parser

        _parser = parser()
    return _parser


# pglast's JSON tree is decoded with orjson: ~30% faster than the json module on
# this text (it reuses the strings of repeated keys), ~10% of a file's analysis. A
# text orjson refuses (an integer beyond 64 bits) takes json.loads's way: the same
# value, or the same error as before.
def loads(text: str) -> Any:
    try:
        return _fast_loads(text)
    except _FastError:
        return json.loads(text)


class Lines:
    """Byte offset → (line, column) for one text."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.newlines = [m.start() for m in NEWLINE.finditer(data)]

    def pos(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.data)))
        index = bisect_left(self.newlines, offset)
        start = self.newlines[index - 1] + 1 if index else 0
        return index + 1, offset - start + 1

    def line(self, offset: int) -> int:
        return bisect_left(self.newlines, max(0, offset)) + 1


def setting_off(value: Node) -> bool:
    """Whether a setting's value turns it off: false, off, no, 0 (a string or a number)."""
    const = value.get("A_Const") or {}
    if "ival" in const:
        return not (const["ival"] or {}).get("ival", 0)
    return (sval(value) or "").lower() in ("false", "off", "0", "no", "f", "n")


def strs(items: Sequence[Node] | None) -> tuple[str, ...]:
    if not items:
        return ()
    if len(items) == 1:  # most names are unqualified
        item = items[0]
        return (item["String"].get("sval", ""),) if "String" in item else ()
    if len(items) == 2:  # and most others schema.name
        first, second = items
        if "String" in first and "String" in second:
            return first["String"].get("sval", ""), second["String"].get("sval", "")
    return tuple([item["String"].get("sval", "") for item in items if "String" in item])


def sval(node: Node | None) -> str | None:
    if not node:
        return None
    if "String" in node:
        return str(node["String"].get("sval", ""))
    if "A_Const" in node:
        sval = node["A_Const"].get("sval")
        if isinstance(sval, dict):
            return str(sval.get("sval", ""))
    return None



class ScopeDict(dict[str, "tuple[str, ...] | None"]):
    """Alias → table for qualified column names; ``visible`` decides unqualified ones.

    Unqualified column names resolve only when exactly one table is visible at
    this query level (otherwise they are left alone rather than guessed).
    """

    __slots__ = ("visible",)
    visible: Scope | None


def scope_of(names: Scope,
           visible: Scope | None) -> ScopeDict:
    # a factory rather than ScopeDict.__init__: half the cost without the Python-level
    # __init__ and super() call (a scope is made per query level and per expression)
    scope = ScopeDict(names)
    scope.visible = visible
    return scope


def single_table(scope: Scope) -> tuple[str, ...] | None:
    """The table an unqualified column name belongs to, when exactly one is visible."""
    visible = scope.visible if isinstance(scope, ScopeDict) else scope
    if visible is None or len(visible) != 1:
        return None
    (table,) = visible.values()
    return table


# node type → what the generic walk does with such a node (it descends into all others;
# None: nothing, for leaves that cannot hold a name to resolve); filled by the package
WALKERS: dict[str, Callable[[Any, Node, Scope | None, frozenset[str]], object] | None] = {}
# statement node type → the family method ``st_<node type>``; filled by the package
HANDLERS: dict[str, Callable[[Any, Node], None]] = {}


class Base:
    """State of one file's walk, names, positions and the fact emitters."""

    _body_text = ""
    _stmt_end = 0  # byte offset where the statement being walked ends
    _stmt_text: str | None = ""  # None: not decoded yet
    _stmt_start = 0  # byte offset where the statement being walked starts
    # the bodies of the functions this file made (identity → language, CREATE statement,
    # body, parameters), for a later call that runs one (Functions.run_now); made on
    # the first function, like the two sets of the functions run so far and running
    # (None for a name with several overloads: not told which one a call runs)
    _bodies: dict[str, tuple[str, str, str, frozenset[str], str | None] | None] | None = None
    _ran: set[str]  # (set with _bodies)
    _running: frozenset[str] = frozenset()
    _defining = 0  # walking a function's body where it is made: a call there runs later
    _looped = False  # walking a loop's body or a cursor's query: a call there may not run

    def __init__(self, text: str, search_path: Sequence[str]) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.lines = Lines(self.data)
        self.newlines = self.lines.newlines
        self.default_path = tuple(search_path) or ("public",)
        self.path = self.default_path
        self.facts: list[Fact] = []
        self.observations: list[Observation] = []
        self.non_tx: list[tuple[int, str]] = []
        self.explicit_tx = False
        self.enum_values: list[tuple[int, str, int]] = []  # (stmt end byte, value, line)
        # state while walking one statement
        self.base = 0           # byte offset of the text being walked (bodies)
        self.line_base = 0      # line offset for sub-parsed bodies
        self.fallback_line = 1
        self.weak = False       # references are WEAK (DO blocks, function bodies)
        # what is made is one way among others to have it: made in a DO block where it
        # may not run (IF, CASE, a handler) or may exist already (a handler catching
        # "already exists")
        self.idempotent = False
        self.ctes: list[set[str]] = []
        self.params: frozenset[str] = frozenset()  # parameter names inside a function body
        # a PL/pgSQL body's scalar variables: a bare name, never a qualifier (``v.col``
        # with a scalar ``v`` is a table's column)
        self.variables: frozenset[str] = frozenset()
        self.check_bodies = True  # SET check_function_bodies = off makes SQL bodies weak

    def where(self, node: Node | None) -> tuple[int, int]:
        """(line, column) of a node; runs for every fact, so the common case (a located
        node of the file itself) is computed here directly."""
        loc = node.get("location", -1) if node else -1
        if type(loc) is int and loc >= 0:
            if self.line_base:
                return self.line_base + self.lines_of_body(loc), 1
            offset = self.base + loc
            newlines = self.newlines
            index = bisect_left(newlines, offset)
            return index + 1, offset - (newlines[index - 1] + 1 if index else 0) + 1
        return self.fallback_line, 1

    def lines_of_body(self, loc: int) -> int:
        return self._body_text[:loc].count("\n") if self._body_text else 0

    def create_name(self, parts: Sequence[str]) -> str:
        if len(parts) >= 2:
            return f"{parts[-2]}.{parts[-1]}"
        return f"{self.path[0]}.{parts[0]}" if parts else ""

    def ref_names(self, parts: Sequence[str], kind: str) -> tuple[str, ...]:
        """Candidate identities for a reference; () for built-ins."""
        key = (self.path, tuple(parts), kind)
        found = REF_NAMES.get(key)
        if found is None:
            found = REF_NAMES[key] = self._ref_names(parts, kind)
        return found

    def _ref_names(self, parts: Sequence[str], kind: str) -> tuple[str, ...]:
        if not parts:
            return ()
        if len(parts) >= 2:
            schema = parts[-2]
            if schema in BUILTIN_SCHEMAS or schema.startswith("pg_temp"):
                return ()
            return (f"{schema}.{parts[-1]}",)
        name = parts[0]
        if kind == "function" and name in catalog.FUNCTIONS:
            return ()
        if kind == "type" and name in catalog.TYPES:
            return ()
        if kind == "relation" and name in catalog.RELATIONS:
            return ()
        return Unqualified(f"{schema}.{name}" for schema in self.path
                            if schema not in BUILTIN_SCHEMAS)

    def rel_parts(self, rv: Node) -> tuple[str, ...]:
        catalog, schema, relname = rv.get("catalogname"), rv.get("schemaname"), rv.get("relname")
        if not catalog and not schema:
            return (relname,) if relname else ()
        return tuple(p for p in (catalog, schema, relname) if p)

    def add(self, action: str, kind: str, names: tuple[str, ...], node: Node | None,
            display: str, *, guarded: bool = False, new: str = "", open_: bool = False) -> None:
        if not names or not names[0]:
            return
        if self.weak:
            if action == REF:
                action = WEAK
            elif not guarded and action in CHANGING:
                guarded = True
        if self.idempotent and action in PROVIDING:
            guarded = True
        if type(names) is Unqualified:
            names = tuple(names)  # plain again, for marshal
            if not new and action in USING:
                new = UNQUALIFIED
        line, col = self.where(node)
        self.facts.append((action, kind, names, line, col, display, guarded, new, open_))
        if kind == "function" and action in CHANGING and self._bodies:
            for name in names:  # dropped or renamed: a later call does not run that body
                self._bodies.pop(name, None)
        if kind in SCHEMA_KINDS and action in PROVIDING:
            schema = names[0].partition(".")[0]
            if schema not in self.default_path and schema not in BUILTIN_SCHEMAS:
                self.facts.append((REF, "schema", (schema,), line, col, "schema", False, "", False))

    def ref_column(self, name: str, node: Node, action: str = REF, guarded: bool = False,
                   ) -> None:
        """``add(action, "column", (name,), node, "column", guarded=guarded)`` for a
        non-empty ``name`` and REF or CREATE: the commonest facts (half of them), without
        the checks they never need."""
        line, col = self.where(node)
        if self.weak and action == REF:
            action = WEAK
        self.facts.append((action, "column", (name,), line, col, "column", guarded, "", False))

    def ref_relation(self, rv: Node, display: str = "table", *, guarded: bool = False,
                     written: bool = False) -> tuple[str, ...]:
        if "schemaname" in rv or "catalogname" in rv:
            parts = self.rel_parts(rv)
        else:  # rel_parts() of the usual unqualified name, inlined
            relname = rv.get("relname")
            parts = (relname,) if relname else ()
        if len(parts) == 1 and self.ctes and any(parts[0] in scope for scope in self.ctes):
            return ()
        names = REF_NAMES.get((self.path, parts, "relation")) or self.ref_names(parts,
                                                                                  "relation")
        if names and not guarded:
            self.add(REF, "relation", names, rv, display, open_=written)
        return names

    def ref_columns(self, table: tuple[str, ...], columns: Iterable[str], node: Node,
                    ) -> None:
        if not table:
            return
        if len(table) == 1:  # the usual case: no generator per column
            (prefix,) = table
            for col in columns:
                if col:
                    self.ref_column(f"{prefix}.{col}", node)
            return
        for col in columns:
            if col:
                self.add(REF, "column", tuple(f"{t}.{col}" for t in table), node, "column")

    def ref_type(self, tn: Node | None, *, returned: bool = False) -> None:
        if tn:
            self.ref_type_names(tn, strs(tn.get("names")), returned=returned)

    def ref_type_names(self, tn: Node, names: tuple[str, ...], *,
                       returned: bool = False) -> None:
        """``ref_type`` for a type name whose ``names`` the caller has already read."""
        if "pct_type" in tn and tn["pct_type"] and len(names) >= 2:
            table = self.ref_names(names[:-1], "relation")
            self.ref_columns(table, [names[-1]], tn)
            return
        if not names:
            return
        found = REF_NAMES.get((self.path, names, "type"))
        if found is None:
            found = self.ref_names(names, "type")
        if found:  # built-in types (most) are not facts
            self.add(REF, "type", found, tn, "type", open_=returned)
        # typmods and array bounds may hold expressions; nothing to resolve in them

    def ref_function(self, parts: tuple[str, ...], node: Node | None,
                     display: str = "function") -> None:
        found = REF_NAMES.get((self.path, parts, "function"))
        if found is None:
            found = self.ref_names(parts, "function")
        if found:  # built-in functions (most) are not facts
            self.add(REF, "function", found, node, display)

    def non_transactional(self, st: Node, what: str, *, real: bool = True) -> None:
        if real:
            self.non_tx.append((self.fallback_line, what))

    def destructive(self, node: Node, what: str, words: bytes = b"") -> None:
        """``what`` destroys data; ``words`` (a regular expression) finds it in the
        statement when it is one action of several (``ALTER TABLE … DROP COLUMN``), so the
        observation points at its own line, as squawk's does."""
        line, column = self.fallback_line, 1
        if words:
            found = list(re.finditer(words, self.data[self._stmt_start:self._stmt_end]))
            if len(found) == 1:
                line, column = self.lines.pos(self._stmt_start + found[0].start())
        self.observations.append(Observation(DESTRUCTIVE, line, column, what))

    def statement_at(self, base: int, start: int, end: int, first_line: int) -> None:
        """Start walking the statement at bytes ``[start, end)`` whose tree positions count
        from ``base`` and whose first line (after comments) is ``first_line``."""
        self.base = base
        self.fallback_line = first_line
        self._stmt_start = start
        self._stmt_end = end
        self._stmt_text = None

    def body_state(self) -> tuple[int, bool, bool, int, str, int, str | None]:
        """What walking a nested body (function, DO block) changes; see restore()."""
        return (self.base, self.weak, self.idempotent, self.line_base, self._body_text,
                self.fallback_line, self._stmt_text)

    def restore(self, saved: tuple[int, bool, bool, int, str, int, str | None]) -> None:
        (self.base, self.weak, self.idempotent, self.line_base, self._body_text,
         self.fallback_line, self._stmt_text) = saved
