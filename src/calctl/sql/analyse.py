"""Per-file extraction: what each statement creates, alters, drops, renames and references.

PostgreSQL text is parsed by pglast's JSON parse tree (``parse_sql_json``: the
real PostgreSQL parser, without building Python AST objects). PL/pgSQL bodies of
functions and DO blocks go through ``parse_plpgsql_json`` and the SQL inside them
is parsed again. Text pglast rejects falls back to :mod:`calctl.sql.fallback`
(sqlparse tokens), flagged approximate.

Positions in pglast trees are byte offsets into the UTF-8 text; :class:`_Lines`
turns them into 1-based line and column numbers.
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
    CREATE,
    DROP,
    PROVIDING,
    REF,
    RENAME,
    REPLACE,
    UNQUALIFIED,
    USING,
    WEAK,
    AnalysisInput,
    FileAnalysis,
    Note,
    Span,
    as_fact,
    summarise,
)
from calctl.sql.facts import PlainFact as Fact  # the extractor's facts, plain tuples
from calctl.sql.fastjson import FastJSONError as _FastError
from calctl.sql.fastjson import loads as _fast_loads
from calctl.sql.render import render

Node = dict[str, Any]

_IGNORE = re.compile(r"--\s*calctl:\s*ignore(-file)?\s+([A-Za-z0-9_, ]+)", re.I)
_PSQL_META = re.compile(r"^[ \t]*\\[^\n]*", re.M)
_NO_TX_MARK = re.compile(r"--\s*calctl:\s*no-transaction\b", re.I)
_LEADING = re.compile(rb"(?:\s+|--[^\n]*|/\*.*?\*/)*", re.S)
_DOLLAR = re.compile(rb"\$[A-Za-z_0-9]*\$|'|E'|e'")
_NEWLINE = re.compile(b"\n")
_BUILTIN_SCHEMAS = frozenset({"pg_catalog", "information_schema", "pg_toast"})
# kinds of objects that live in a schema (creating one needs that schema)
_SCHEMA_KINDS = frozenset({"relation", "type", "function"})
# (sets, not tuples: a tuple of these module constants is built anew at every test)
_CHANGING = frozenset({ALTER, DROP, RENAME})

_REL_DISPLAY = {
    "OBJECT_TABLE": "table", "OBJECT_VIEW": "view", "OBJECT_MATVIEW": "materialized view",
    "OBJECT_INDEX": "index", "OBJECT_SEQUENCE": "sequence", "OBJECT_FOREIGN_TABLE": "table",
}
_TYPE_DISPLAY = {"OBJECT_TYPE": "type", "OBJECT_DOMAIN": "domain"}
_FUNC_DISPLAY = {"OBJECT_FUNCTION": "function", "OBJECT_PROCEDURE": "procedure",
                 "OBJECT_ROUTINE": "function", "OBJECT_AGGREGATE": "aggregate"}
_SEQ_FUNCS = frozenset({"nextval", "currval", "setval"})
_ORDERING_CLAUSES = frozenset({"groupClause", "sortClause", "windowClause"})
_NO_OUTPUTS: frozenset[str] = frozenset()
_SERIAL_TYPES = frozenset({"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"})
_TYPE_OPTIONS = frozenset({"stype", "mstype", "basetype", "leftarg", "rightarg", "subtype",
                           "element"})


class _Unqualified(tuple[str, ...]):
    """Candidates of a name written without a schema (one per search-path schema)."""


# (search path, name parts, kind) → candidates: a directory names the same objects over
# and over, and the answer depends on nothing else
_REF_NAMES: dict[tuple[tuple[str, ...], tuple[str, ...], str], tuple[str, ...]] = {}


# pglast's parser module, loaded on first use (calctl.sql.pgparser) and kept here: a
# call through that module's function on every file costs a lookup more
_parser: Any = None


def _load_parser() -> Any:
    global _parser
    from calctl.sql.pgparser import parser

    _parser = parser()
    return _parser


# pglast's JSON tree is decoded with orjson: ~30% faster than the json module on
# this text (it reuses the strings of repeated keys), ~10% of a file's analysis. A
# text orjson refuses (an integer beyond 64 bits) takes json.loads's way: the same
# value, or the same error as before.
def _loads(text: str) -> Any:
    try:
        return _fast_loads(text)
    except _FastError:
        return json.loads(text)


class _Lines:
    """Byte offset → (line, column) for one text."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.newlines = [m.start() for m in _NEWLINE.finditer(data)]

    def pos(self, offset: int) -> tuple[int, int]:
        offset = max(0, min(offset, len(self.data)))
        index = bisect_left(self.newlines, offset)
        start = self.newlines[index - 1] + 1 if index else 0
        return index + 1, offset - start + 1

    def line(self, offset: int) -> int:
        return bisect_left(self.newlines, max(0, offset)) + 1


def _strs(items: Sequence[Node] | None) -> tuple[str, ...]:
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


def _sval(node: Node | None) -> str | None:
    if not node:
        return None
    if "String" in node:
        return str(node["String"].get("sval", ""))
    if "A_Const" in node:
        sval = node["A_Const"].get("sval")
        if isinstance(sval, dict):
            return str(sval.get("sval", ""))
    return None


class Extractor:
    """Walks parse trees of one file and collects facts and notes."""

    def __init__(self, text: str, search_path: Sequence[str]) -> None:
        self.text = text
        self.data = text.encode("utf-8")
        self.lines = _Lines(self.data)
        self.newlines = self.lines.newlines
        self.default_path = tuple(search_path) or ("public",)
        self.path = self.default_path
        self.facts: list[Fact] = []
        self.notes: list[Note] = []
        self.spans: list[Span] = []
        self.non_tx: list[tuple[int, str]] = []
        self.explicit_tx = False
        self.enum_values: list[tuple[int, str, int]] = []  # (stmt end byte, value, line)
        # state while walking one statement
        self.base = 0           # byte offset of the text being walked (bodies)
        self.line_base = 0      # line offset for sub-parsed bodies
        self.fallback_line = 1
        self.weak = False       # references are WEAK (DO blocks, function bodies)
        self.ctes: list[set[str]] = []
        self.params: frozenset[str] = frozenset()  # parameter names inside a function body
        self.check_bodies = True  # SET check_function_bodies = off makes SQL bodies weak

    # ------------------------------------------------------------ positions

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

    _body_text = ""

    # ------------------------------------------------------------ names

    def create_name(self, parts: Sequence[str]) -> str:
        if len(parts) >= 2:
            return f"{parts[-2]}.{parts[-1]}"
        return f"{self.path[0]}.{parts[0]}" if parts else ""

    def ref_names(self, parts: Sequence[str], kind: str) -> tuple[str, ...]:
        """Candidate identities for a reference; () for built-ins."""
        key = (self.path, tuple(parts), kind)
        found = _REF_NAMES.get(key)
        if found is None:
            found = _REF_NAMES[key] = self._ref_names(parts, kind)
        return found

    def _ref_names(self, parts: Sequence[str], kind: str) -> tuple[str, ...]:
        if not parts:
            return ()
        if len(parts) >= 2:
            schema = parts[-2]
            if schema in _BUILTIN_SCHEMAS or schema.startswith("pg_temp"):
                return ()
            return (f"{schema}.{parts[-1]}",)
        name = parts[0]
        if kind == "function" and name in catalog.FUNCTIONS:
            return ()
        if kind == "type" and name in catalog.TYPES:
            return ()
        if kind == "relation" and name in catalog.RELATIONS:
            return ()
        return _Unqualified(f"{schema}.{name}" for schema in self.path
                            if schema not in _BUILTIN_SCHEMAS)

    def rel_parts(self, rv: Node) -> tuple[str, ...]:
        catalog, schema, relname = rv.get("catalogname"), rv.get("schemaname"), rv.get("relname")
        if not catalog and not schema:
            return (relname,) if relname else ()
        return tuple(p for p in (catalog, schema, relname) if p)

    # ------------------------------------------------------------ emit

    def add(self, action: str, kind: str, names: tuple[str, ...], node: Node | None,
            display: str, *, guarded: bool = False, new: str = "", open_: bool = False) -> None:
        if not names or not names[0]:
            return
        if self.weak:
            if action == REF:
                action = WEAK
            elif not guarded and action in _CHANGING:
                guarded = True
        if type(names) is _Unqualified:
            names = tuple(names)  # plain again, for marshal
            if not new and action in USING:
                new = UNQUALIFIED
        line, col = self.where(node)
        self.facts.append((action, kind, names, line, col, display, guarded, new, open_))
        if kind in _SCHEMA_KINDS and action in PROVIDING:
            schema = names[0].partition(".")[0]
            if schema not in self.default_path and schema not in _BUILTIN_SCHEMAS:
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

    def ref_relation(self, rv: Node, display: str = "table", *, guarded: bool = False) -> \
            tuple[str, ...]:
        if "schemaname" in rv or "catalogname" in rv:
            parts = self.rel_parts(rv)
        else:  # rel_parts() of the usual unqualified name, inlined
            relname = rv.get("relname")
            parts = (relname,) if relname else ()
        if len(parts) == 1 and self.ctes and any(parts[0] in scope for scope in self.ctes):
            return ()
        names = _REF_NAMES.get((self.path, parts, "relation")) or self.ref_names(parts,
                                                                                  "relation")
        if names and not guarded:
            self.add(REF, "relation", names, rv, display)
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

    def ref_type(self, tn: Node | None) -> None:
        if tn:
            self.ref_type_names(tn, _strs(tn.get("names")))

    def ref_type_names(self, tn: Node, names: tuple[str, ...]) -> None:
        """``ref_type`` for a type name whose ``names`` the caller has already read."""
        if "pct_type" in tn and tn["pct_type"] and len(names) >= 2:
            table = self.ref_names(names[:-1], "relation")
            self.ref_columns(table, [names[-1]], tn)
            return
        if not names:
            return
        found = _REF_NAMES.get((self.path, names, "type"))
        if found is None:
            found = self.ref_names(names, "type")
        if found:  # built-in types (most) are not facts
            self.add(REF, "type", found, tn, "type")
        # typmods and array bounds may hold expressions; nothing to resolve in them

    def ref_function(self, parts: tuple[str, ...], node: Node | None,
                     display: str = "function") -> None:
        found = _REF_NAMES.get((self.path, parts, "function"))
        if found is None:
            found = self.ref_names(parts, "function")
        if found:  # built-in functions (most) are not facts
            self.add(REF, "function", found, node, display)

    # ------------------------------------------------------------ expressions

    def walk(self, node: Any, scope: dict[str, tuple[str, ...] | None] | None = None,
             outputs: frozenset[str] = frozenset()) -> None:
        """Generic walk of an expression or query tree; ``scope`` maps aliases to tables."""
        kind = type(node)
        if kind is dict:
            items: Iterable[Any] = (node,)
        elif kind is list:
            # the items of a list are walked here rather than by a call each: a tree
            # holds many lists (target lists, arguments, names)
            items = node
        else:
            return
        walkers = _WALKERS
        for item in items:
            if type(item) is not dict:
                continue
            for key, value in item.items():
                if key in walkers:
                    walker = walkers[key]
                    if walker is not None:
                        walker(self, value, scope, outputs)
                elif type(value) is dict or type(value) is list:
                    self.walk(value, scope, outputs)

    def res_target(self, rt: Node, scope: dict[str, tuple[str, ...] | None] | None,
                   outputs: frozenset[str]) -> None:
        # the generic walk, minus a call per level: of a ResTarget's fields
        # (name, indirection, val, location) only these two can hold expressions
        # (membership tests rather than .get calls; walk() ignores empty values)
        if "indirection" in rt:
            self.walk(rt["indirection"], scope, outputs)
        if "val" in rt:
            value = rt["val"]
            # a node is {type: fields}; a column name or a function call is the usual
            # value (what walk() would call, without it)
            if "ColumnRef" in value:
                self.column_ref(value["ColumnRef"], scope, outputs)
            elif "FuncCall" in value:
                self.func_call(value["FuncCall"], scope, outputs)
            elif value:
                self.walk(value, scope, outputs)

    def a_expr(self, expr: Node, scope: dict[str, tuple[str, ...] | None] | None,
               outputs: frozenset[str]) -> None:
        # likewise for an operator expression (kind, name, lexpr, rexpr, location)
        if "lexpr" in expr:
            value = expr["lexpr"]
            if "ColumnRef" in value:
                self.column_ref(value["ColumnRef"], scope, outputs)
            elif value:
                self.walk(value, scope, outputs)
        if "rexpr" in expr:
            value = expr["rexpr"]
            if "ColumnRef" in value:
                self.column_ref(value["ColumnRef"], scope, outputs)
            elif value:
                self.walk(value, scope, outputs)

    def type_cast(self, tc: Node, scope: dict[str, tuple[str, ...] | None] | None,
                  outputs: frozenset[str]) -> None:
        self.ref_type(tc.get("typeName"))
        arg = tc.get("arg")
        tnames = _strs((tc.get("typeName") or {}).get("names"))
        literal = _sval(arg) if isinstance(arg, dict) else None
        if literal and tnames and tnames[-1] == "regclass":
            self.ref_relation_text(literal, tc)
        else:
            self.walk(arg, scope, outputs)

    def ref_relation_text(self, text: str, node: Node) -> None:
        parts = tuple(p.strip('"') if p.startswith('"') else p.lower()
                      for p in text.split("."))
        self.add(REF, "relation", self.ref_names(parts, "relation"), node, "table")

    def func_call(self, fc: Node, scope: dict[str, tuple[str, ...] | None] | None,
                  outputs: frozenset[str]) -> None:
        parts = _strs(fc.get("funcname"))
        self.ref_function(parts, fc)
        args = fc.get("args") or []
        if parts and parts[-1] in _SEQ_FUNCS and args:
            literal = _sval(args[0])
            if literal:
                parts2 = tuple(p.strip('"') if p.startswith('"') else p.lower()
                               for p in literal.split("."))
                self.add(REF, "relation", self.ref_names(parts2, "relation"), fc, "sequence")
                args = args[1:]
        if args:
            self.walk(args, scope, outputs)
        if "agg_order" in fc:
            self.walk(fc["agg_order"], scope, outputs)
        if "agg_filter" in fc:
            self.walk(fc["agg_filter"], scope, outputs)
        if "over" in fc:
            self.walk(fc["over"], scope, outputs)

    def column_ref(self, cr: Node, scope: dict[str, tuple[str, ...] | None] | None,
                   outputs: frozenset[str]) -> None:
        if scope is None or self.weak:
            return
        fields = cr.get("fields") or []
        if len(fields) == 2:
            # alias.column, the usual shape: what the general path below does, without
            # building the names tuple
            qualifier, column = fields
            if "String" not in qualifier or "String" not in column:
                return  # alias.*
            alias = qualifier["String"].get("sval", "")
            col = column["String"].get("sval", "")
            if alias in self.params:
                return
            table = scope.get(alias)
            if table:
                if len(table) == 1 and col:
                    self.ref_column(f"{table[0]}.{col}", cr)
                else:
                    self.ref_columns(table, (col,), cr)
            return
        names = _strs(fields)
        if len(names) != len(fields) or not names:
            return  # contains * or something else
        if names[0] in self.params:
            return  # a function parameter ($1 by name, or function_name.param)
        if len(names) == 1:
            if names[0] in outputs:
                return
            table = _single_table(scope)
            if table:
                self.ref_columns(table, names, cr)
        elif len(names) == 2:
            table = scope.get(names[0])
            if table:
                self.ref_columns(table, (names[1],), cr)

    def from_item(self, node: Node, scope: dict[str, tuple[str, ...] | None]) -> None:
        if "RangeVar" in node:
            rv = node["RangeVar"]
            names = self.ref_relation(rv)
            alias = rv["alias"].get("aliasname") if "alias" in rv else None
            scope[alias or rv.get("relname")] = names or None
        elif "JoinExpr" in node:
            join = node["JoinExpr"]
            self.from_item(join.get("larg") or {}, scope)
            self.from_item(join.get("rarg") or {}, scope)
            if join.get("alias"):
                scope[join["alias"].get("aliasname", "")] = None
            if join.get("quals"):
                self.walk(join["quals"], scope)
        elif "RangeSubselect" in node:
            sub = node["RangeSubselect"]
            self.walk(sub.get("subquery"), scope if sub.get("lateral") else None)
            scope[(sub.get("alias") or {}).get("aliasname", "")] = None
        elif "RangeFunction" in node:
            rf = node["RangeFunction"]
            self.walk(rf.get("functions"), scope)
            scope[(rf.get("alias") or {}).get("aliasname", "")] = None
        else:
            self.walk(node, scope)
            scope["\x00other"] = None

    def with_clause(self, wc: Node | None) -> bool:
        if not wc:
            return False
        names = set()
        for cte in wc.get("ctes") or []:
            body = cte.get("CommonTableExpr") or {}
            names.add(body.get("ctename", ""))
        self.ctes.append(names)
        for cte in wc.get("ctes") or []:
            self.walk((cte.get("CommonTableExpr") or {}).get("ctequery"))
        return True

    def select(self, st: Node, outer: dict[str, tuple[str, ...] | None] | None) -> None:
        # (clauses are looked up by membership tests rather than .get calls: most are
        # absent, and walk() ignores empty values)
        pushed = self.with_clause(st["withClause"]) if "withClause" in st else False
        try:
            if st.get("op", "SETOP_NONE") != "SETOP_NONE":
                self.select((st.get("larg") or {}), outer)
                self.select((st.get("rarg") or {}), outer)
                return
            if st.get("valuesLists"):
                self.walk(st["valuesLists"], outer)
                return
            scope: dict[str, tuple[str, ...] | None] = {}
            if "fromClause" in st:
                for item in st["fromClause"]:
                    self.from_item(item, scope)
            if "intoClause" in st:
                into = st["intoClause"].get("rel") or {}
                self.add(CREATE, "relation", (self.create_name(self.rel_parts(into)),), into,
                         "table", open_=True)
            targets = st.get("targetList") or ()
            outputs = frozenset([
                t["ResTarget"].get("name", "") if "ResTarget" in t else "" for t in targets
            ])
            merged = {**outer, **scope} if outer else scope
            # unqualified names resolve against this level only when it has one table;
            # walks only read a scope, so the clauses of a level share one
            level = _scope(merged, scope if scope else None)
            if targets:
                self.walk(targets, level, outputs)
            if "whereClause" in st:
                self.walk(st["whereClause"], level, outputs)
            if "havingClause" in st:
                self.walk(st["havingClause"], level, outputs)
            if "distinctClause" in st:
                self.walk(st["distinctClause"], level, outputs)
            if not _ORDERING_CLAUSES.isdisjoint(st):
                ordering = _scope(merged, None)
                for key in ("groupClause", "sortClause", "windowClause"):
                    if key in st:
                        self.walk(st[key], ordering, outputs)
            if "limitCount" in st:
                self.walk(st["limitCount"], None)
            if "limitOffset" in st:
                self.walk(st["limitOffset"], None)
        finally:
            if pushed:
                self.ctes.pop()

    def dml(self, kind: str, st: Node, outer: dict[str, tuple[str, ...] | None] | None) -> None:
        pushed = self.with_clause(st.get("withClause"))
        try:
            rv = st.get("relation") or {}
            table = self.ref_relation(rv)
            alias = str((rv.get("alias") or {}).get("aliasname") or rv.get("relname") or "")
            scope: dict[str, tuple[str, ...] | None] = {alias: table or None}
            if kind == "InsertStmt":
                cols = [(t.get("ResTarget") or {}).get("name", "") for t in st.get("cols") or []]
                self.ref_columns(table, cols, rv)
                self.walk(st.get("selectStmt"), outer)
                conflict = st.get("onConflictClause")
                if conflict:
                    self.walk(conflict.get("targetList"), _scope(scope, scope))
                    self.walk(conflict.get("whereClause"), _scope(scope, scope))
                    infer = conflict.get("infer") or {}
                    for elem in infer.get("indexElems") or []:
                        name = (elem.get("IndexElem") or {}).get("name")
                        if name:
                            self.ref_columns(table, [name], rv)
            elif kind == "UpdateStmt":
                cols = [(t.get("ResTarget") or {}).get("name", "")
                        for t in st.get("targetList") or []]
                self.ref_columns(table, cols, rv)
                for item in st.get("fromClause") or []:
                    self.from_item(item, scope)
                visible = scope if len(scope) == 1 else None
                for t in st.get("targetList") or []:
                    self.walk((t.get("ResTarget") or {}).get("val"), _scope(scope, visible))
                self.walk(st.get("whereClause"), _scope(scope, visible))
            elif kind == "DeleteStmt":
                for item in st.get("usingClause") or []:
                    self.from_item(item, scope)
                visible = scope if len(scope) == 1 else None
                self.walk(st.get("whereClause"), _scope(scope, visible))
            else:  # MERGE: tables only
                self.walk(st.get("sourceRelation"), None)
                self.walk(st.get("joinCondition"), None)
            if st.get("returningList"):
                self.walk(st["returningList"], None)
        finally:
            if pushed:
                self.ctes.pop()

    # ------------------------------------------------------------ statements

    def statement(self, name: str, st: Node) -> None:
        handler = _HANDLERS.get(name)
        if handler is not None:
            handler(self, st)
        else:
            self.walk({name: st})

    # queries at statement level: what walk({name: st}) would do, without the dict
    def st_SelectStmt(self, st: Node) -> None:
        self.select(st, None)

    def st_InsertStmt(self, st: Node) -> None:
        self.dml("InsertStmt", st, None)

    def st_UpdateStmt(self, st: Node) -> None:
        self.dml("UpdateStmt", st, None)

    def st_DeleteStmt(self, st: Node) -> None:
        self.dml("DeleteStmt", st, None)

    def st_MergeStmt(self, st: Node) -> None:
        self.dml("MergeStmt", st, None)

    def st_VariableSetStmt(self, st: Node) -> None:
        if st.get("name") == "check_function_bodies":
            # pg_dump style: SQL function bodies are then not checked at creation
            flags = [(_sval(a) or "").lower() for a in st.get("args") or []]
            self.check_bodies = not any(v in ("false", "off", "0", "no") for v in flags)
            return
        if st.get("name") != "search_path" or st.get("is_local"):
            return
        kind = st.get("kind")
        if kind == "VAR_SET_VALUE":
            values = [_sval(a) for a in st.get("args") or []]
            schemas = tuple(v for v in values if v and v != "$user")
            self.path = schemas or self.default_path
        elif kind in ("VAR_SET_DEFAULT", "VAR_RESET", "VAR_RESET_ALL"):
            self.path = self.default_path

    def st_CreateSchemaStmt(self, st: Node) -> None:
        name = st.get("schemaname") or ""
        self.add(CREATE, "schema", (name,), st, "schema", guarded=bool(st.get("if_not_exists")))
        saved = self.path
        self.path = (name, *saved)
        try:
            for elt in st.get("schemaElts") or []:
                for key, value in elt.items():
                    self.statement(key, value)
        finally:
            self.path = saved

    def st_CreateExtensionStmt(self, st: Node) -> None:
        self.add(CREATE, "extension", (st.get("extname", ""),), st, "extension",
                 guarded=bool(st.get("if_not_exists")))

    def st_CreateStmt(self, st: Node, display: str = "table") -> None:
        rv = st.get("relation") or {}
        table = self.create_name(self.rel_parts(rv))
        open_ = bool(st.get("inhRelations") or st.get("ofTypename"))
        for elt in st.get("tableElts") or []:
            if "TableLikeClause" in elt:
                open_ = True
        guarded = bool(st.get("if_not_exists"))
        self.add(CREATE, "relation", (table,), rv, display, guarded=guarded, open_=open_)
        for parent in st.get("inhRelations") or []:
            if "RangeVar" in parent:
                self.ref_relation(parent["RangeVar"])
        if st.get("ofTypename"):
            self.ref_type(st["ofTypename"])
        own = (table,)
        scope: dict[str, tuple[str, ...] | None] = {rv.get("relname", ""): own}
        for elt in st.get("tableElts") or []:
            if "ColumnDef" in elt:
                self.column_def(own, elt["ColumnDef"], scope, guarded=guarded)
            elif "Constraint" in elt:
                self.constraint(own, elt["Constraint"], scope)
            elif "TableLikeClause" in elt:
                self.ref_relation(elt["TableLikeClause"].get("relation") or {})
        if st.get("partspec"):
            self.walk(st["partspec"], _scope(scope, scope))

    def st_CreateForeignTableStmt(self, st: Node) -> None:
        self.st_CreateStmt(st.get("base") or {}, "foreign table")

    def column_def(self, table: tuple[str, ...], cd: Node,
                   scope: dict[str, tuple[str, ...] | None], *, guarded: bool = False) -> None:
        col = cd.get("colname", "")
        self.ref_column(f"{table[0]}.{col}", cd, CREATE, guarded)
        tnames: tuple[str, ...] = ()
        if "typeName" in cd:
            tn = cd["typeName"]
            if tn:
                tnames = _strs(tn.get("names"))
                self.ref_type_names(tn, tnames)
        if tnames and tnames[-1] in _SERIAL_TYPES:
            schema, _, rel = table[0].partition(".")
            self.add(CREATE, "relation", (f"{schema}.{rel}_{col}_seq",), cd, "sequence")
        if "constraints" in cd:
            for con in cd["constraints"]:
                constraint = con.get("Constraint") or {}
                if constraint.get("contype") == "CONSTR_IDENTITY":
                    schema, _, rel = table[0].partition(".")
                    self.add(CREATE, "relation", (f"{schema}.{rel}_{col}_seq",), cd,
                             "sequence")
                self.constraint(table, constraint, scope)
        if "raw_default" in cd:  # (walk() ignores an empty value)
            self.walk(cd["raw_default"], _scope(scope, scope))

    def constraint(self, table: tuple[str, ...], con: Node,
                   scope: dict[str, tuple[str, ...] | None]) -> None:
        contype = con.get("contype", "")
        if contype == "CONSTR_NOTNULL":
            pass  # the commonest: nothing but the expressions below (never any)
        elif contype == "CONSTR_FOREIGN":
            pk = con.get("pktable") or {}
            target = self.ref_relation(pk)
            self.ref_columns(target, _strs(con.get("pk_attrs")), pk)
            self.ref_columns(table, _strs(con.get("fk_attrs")), con)
        elif contype in ("CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"):
            self.ref_columns(table, _strs(con.get("keys")), con)
            if con.get("exclusions"):
                self.walk(con["exclusions"], _scope(scope, scope))
            if con.get("indexname"):
                self.add(CREATE, "relation", (self.create_name([con["indexname"]]),), con,
                         "index")
        # (membership tests: most constraints have neither; walk() ignores empty values)
        if "raw_expr" in con:
            expr = con["raw_expr"]
            if "FuncCall" in expr:  # DEFAULT now() and the like: walk(), one call fewer
                self.func_call(expr["FuncCall"], _scope(scope, scope), _NO_OUTPUTS)
            else:
                self.walk(expr, _scope(scope, scope))
        if "where_clause" in con:
            self.walk(con["where_clause"], _scope(scope, scope))

    def st_CreateTableAsStmt(self, st: Node) -> None:
        into = st.get("into") or {}
        rv = into.get("rel") or {}
        display = "materialized view" if st.get("objtype") == "OBJECT_MATVIEW" else "table"
        self.add(CREATE, "relation", (self.create_name(self.rel_parts(rv)),), rv, display,
                 guarded=bool(st.get("if_not_exists")), open_=True)
        self.walk(st.get("query"))

    def st_ViewStmt(self, st: Node) -> None:
        rv = st.get("view") or {}
        action = REPLACE if st.get("replace") else CREATE
        self.add(action, "relation", (self.create_name(self.rel_parts(rv)),), rv, "view",
                 open_=True)
        query = st.get("query")
        if query and "SelectStmt" in query:  # what walk() does with it, two calls fewer
            self.select(query["SelectStmt"], None)
        else:
            self.walk(query)

    def st_IndexStmt(self, st: Node) -> None:
        rv = st.get("relation") or {}
        table = self.ref_relation(rv)
        if st.get("idxname"):
            schema = rv.get("schemaname")
            parts = [schema, st["idxname"]] if schema else [st["idxname"]]
            self.add(CREATE, "relation", (self.create_name(parts),), rv, "index",
                     guarded=bool(st.get("if_not_exists")))
        scope: dict[str, tuple[str, ...] | None] = {rv.get("relname", ""): table or None}
        for param in st.get("indexParams") or []:
            elem = param.get("IndexElem") or {}
            if elem.get("name"):
                self.ref_columns(table, [elem["name"]], rv)
            if elem.get("expr"):
                self.walk(elem["expr"], _scope(scope, scope))
        for param in st.get("indexIncludingParams") or []:
            name = (param.get("IndexElem") or {}).get("name")
            if name:
                self.ref_columns(table, [name], rv)
        if st.get("whereClause"):
            self.walk(st["whereClause"], _scope(scope, scope))
        if st.get("concurrent"):
            self.non_transactional(st, "CREATE INDEX CONCURRENTLY")

    def st_AlterTableStmt(self, st: Node) -> None:
        rv = st.get("relation") or {}
        display = _REL_DISPLAY.get(st.get("objtype", ""), "table")
        guarded = bool(st.get("missing_ok"))
        table = self.ref_relation(rv, display, guarded=guarded)
        if not table:
            table = self.ref_names(self.rel_parts(rv), "relation")
        if not table:
            return
        self.add(ALTER, "relation", table, rv, display, guarded=guarded)
        scope: dict[str, tuple[str, ...] | None] = {rv.get("relname", ""): table}
        for cmd in st.get("cmds") or []:
            self.alter_cmd(table, rv, cmd.get("AlterTableCmd") or {}, scope, guarded)

    def alter_cmd(self, table: tuple[str, ...], rv: Node, cmd: Node,
                  scope: dict[str, tuple[str, ...] | None], guarded: bool) -> None:
        sub = cmd.get("subtype", "")
        name = cmd.get("name", "")
        if sub == "AT_AddColumn":
            cd = (cmd.get("def") or {}).get("ColumnDef") or {}
            self.column_def((table[0],), cd, scope, guarded=bool(cmd.get("missing_ok")))
            return
        if sub == "AT_DropColumn":
            missing_ok = bool(cmd.get("missing_ok")) or guarded
            cols = tuple(f"{t}.{name}" for t in table)
            if not missing_ok:
                self.add(REF, "column", cols, rv, "column")
            self.add(DROP, "column", cols, rv, "column", guarded=missing_ok)
            if not missing_ok:
                self.destructive(rv, f"DROP COLUMN {name}")
            return
        if sub == "AT_AddConstraint":
            con = (cmd.get("def") or {}).get("Constraint") or {}
            self.constraint(table, con, scope)
            return
        if sub == "AT_AttachPartition":
            part = (cmd.get("def") or {}).get("PartitionCmd") or {}
            if part.get("name"):
                self.ref_relation(part["name"])
            return
        if name and not guarded and sub in (
            "AT_AlterColumnType", "AT_ColumnDefault", "AT_SetNotNull", "AT_DropNotNull",
            "AT_SetStatistics", "AT_SetStorage", "AT_AddIdentity", "AT_DropIdentity",
            "AT_SetIdentity", "AT_SetCompression",
        ):
            self.ref_columns(table, [name], rv)
        if sub == "AT_AlterColumnType":
            cd = (cmd.get("def") or {}).get("ColumnDef") or {}
            self.ref_type(cd.get("typeName"))
            if cd.get("raw_default"):
                self.walk(cd["raw_default"], _scope(scope, scope))
        elif sub == "AT_ColumnDefault" and cmd.get("def"):
            self.walk(cmd["def"], _scope(scope, scope))
        elif sub in ("AT_AddInherit", "AT_DropInherit") and cmd.get("def"):
            self.walk(cmd["def"])

    def st_RenameStmt(self, st: Node) -> None:
        rtype = st.get("renameType", "")
        guarded = bool(st.get("missing_ok"))
        newname = st.get("newname", "")
        rv = st.get("relation")
        if rtype in _REL_DISPLAY and rv:
            names = self.ref_names(self.rel_parts(rv), "relation")
            schema = rv.get("schemaname") or (names[0].split(".")[0] if names else "")
            if not guarded:
                self.ref_relation(rv, _REL_DISPLAY[rtype])
            self.add(RENAME, "relation", names, rv, _REL_DISPLAY[rtype], guarded=guarded,
                     new=f"{schema}.{newname}")
        elif rtype == "OBJECT_COLUMN" and rv:
            table = self.ref_names(self.rel_parts(rv), "relation")
            if not table:
                return
            if not guarded:
                self.ref_relation(rv)
            old = st.get("subname", "")
            self.ref_columns(table, [old], rv) if not guarded else None
            self.add(RENAME, "column", tuple(f"{t}.{old}" for t in table), rv, "column",
                     guarded=guarded, new=f"{table[0]}.{newname}")
        elif rtype in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
            parts = _strs((st.get("object") or {}).get("List", {}).get("items"))
            names = self.ref_names(parts, "type")
            if names:
                schema = names[0].rsplit(".", 1)[0]
                self.add(REF, "type", names, st, "type")
                self.add(RENAME, "type", names, st, "type", new=f"{schema}.{newname}")
        elif rtype in _FUNC_DISPLAY:
            owa = (st.get("object") or {}).get("ObjectWithArgs") or {}
            names = self.ref_names(_strs(owa.get("objname")), "function")
            if names:
                schema = names[0].rsplit(".", 1)[0]
                self.add(REF, "function", names, st, "function")
                self.add(RENAME, "function", names, st, "function", new=f"{schema}.{newname}")
        elif rtype == "OBJECT_SCHEMA":
            old = st.get("subname", "")
            self.add(REF, "schema", (old,), st, "schema")
            self.add(RENAME, "schema", (old,), st, "schema", new=newname)
        elif rv:
            self.ref_relation(rv, guarded=guarded)

    def st_AlterObjectSchemaStmt(self, st: Node) -> None:
        rv = st.get("relation")
        if rv and st.get("objectType") in _REL_DISPLAY:
            names = self.ref_names(self.rel_parts(rv), "relation")
            guarded = bool(st.get("missing_ok"))
            if not guarded:
                self.ref_relation(rv)
            self.add(RENAME, "relation", names, rv, _REL_DISPLAY[st["objectType"]],
                     guarded=guarded, new=f"{st.get('newschema', '')}.{rv.get('relname', '')}")
        else:
            self.walk(st)

    def st_DropStmt(self, st: Node) -> None:
        rtype = st.get("removeType", "")
        guarded = bool(st.get("missing_ok"))
        if st.get("concurrent"):
            self.non_transactional(st, "DROP INDEX CONCURRENTLY")
        for obj in st.get("objects") or []:
            kind, names, display = self.object_names(rtype, obj)
            if not kind or not names:
                continue
            if not guarded:
                self.add(REF, kind, names, obj.get("TypeName") or st, display)
            self.add(DROP, kind, names, obj.get("TypeName") or st, display, guarded=guarded)
            if rtype in ("OBJECT_TABLE", "OBJECT_SCHEMA") and not guarded:
                self.destructive(st, f"DROP {display.upper()} {names[0]}")

    def object_names(self, objtype: str, obj: Node) -> tuple[str, tuple[str, ...], str]:
        """(kind, candidate identities, display) for a DROP/COMMENT/GRANT object node."""
        if objtype in _REL_DISPLAY:
            parts = _strs((obj.get("List") or {}).get("items"))
            if "RangeVar" in obj:
                parts = self.rel_parts(obj["RangeVar"])
            return "relation", self.ref_names(parts, "relation"), _REL_DISPLAY[objtype]
        if objtype in _TYPE_DISPLAY:
            tn = obj.get("TypeName") or {}
            parts = _strs(tn.get("names")) or _strs((obj.get("List") or {}).get("items"))
            return "type", self.ref_names(parts, "type"), _TYPE_DISPLAY[objtype]
        if objtype in _FUNC_DISPLAY:
            owa = obj.get("ObjectWithArgs") or {}
            return ("function", self.ref_names(_strs(owa.get("objname")), "function"),
                    _FUNC_DISPLAY[objtype])
        if objtype == "OBJECT_SCHEMA":
            name = _sval(obj) or ""
            exists = name in _BUILTIN_SCHEMAS or name == "public"
            return "schema", ((name,) if not exists else ()), "schema"
        if objtype == "OBJECT_EXTENSION":
            name = _sval(obj) or ""
            # plpgsql is installed in every database (pg_dump comments on it)
            return "extension", ((name,) if name != "plpgsql" else ()), "extension"
        if objtype in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"):
            parts = _strs((obj.get("List") or {}).get("items"))
            if len(parts) >= 2:
                table = self.ref_names(parts[:-1], "relation")
                kind = objtype.removeprefix("OBJECT_").lower()
                if kind == "rule":
                    return "relation", table, "table"
                return kind, tuple(f"{t}.{parts[-1]}" for t in table), kind
        if objtype == "OBJECT_COLUMN":
            parts = _strs((obj.get("List") or {}).get("items"))
            if len(parts) >= 2:
                table = self.ref_names(parts[:-1], "relation")
                return "column", tuple(f"{t}.{parts[-1]}" for t in table), "column"
        if objtype == "OBJECT_TABCONSTRAINT":
            parts = _strs((obj.get("List") or {}).get("items"))
            if len(parts) >= 2:
                return "relation", self.ref_names(parts[:-1], "relation"), "table"
        return "", (), ""

    def st_CompositeTypeStmt(self, st: Node) -> None:
        rv = st.get("typevar") or {}
        self.add(CREATE, "type", (self.create_name(self.rel_parts(rv)),), rv, "type")
        for elt in st.get("coldeflist") or []:
            self.ref_type((elt.get("ColumnDef") or {}).get("typeName"))

    def st_CreateEnumStmt(self, st: Node) -> None:
        self.add(CREATE, "type", (self.create_name(_strs(st.get("typeName"))),), st, "enum")

    def st_CreateRangeStmt(self, st: Node) -> None:
        self.add(CREATE, "type", (self.create_name(_strs(st.get("typeName"))),), st, "type")
        self.walk(st.get("params"))

    def st_CreateDomainStmt(self, st: Node) -> None:
        self.add(CREATE, "type", (self.create_name(_strs(st.get("domainname"))),), st, "domain")
        self.ref_type(st.get("typeName"))
        for con in st.get("constraints") or []:
            self.walk((con.get("Constraint") or {}).get("raw_expr"))

    def st_AlterEnumStmt(self, st: Node) -> None:
        names = self.ref_names(_strs(st.get("typeName")), "type")
        self.add(REF, "type", names, st, "enum")
        self.add(ALTER, "type", names, st, "enum")
        if st.get("newVal") and not st.get("oldVal"):
            line = self.fallback_line
            self.enum_values.append((self._stmt_end, st["newVal"], line))

    _stmt_end = 0  # byte offset where the statement being walked ends

    def st_AlterDomainStmt(self, st: Node) -> None:
        names = self.ref_names(_strs(st.get("typeName")), "type")
        self.add(REF, "type", names, st, "domain")
        self.walk(st.get("def"))

    def st_DefineStmt(self, st: Node) -> None:
        kind = st.get("kind", "")
        parts = _strs(st.get("defnames"))
        if kind == "OBJECT_AGGREGATE":
            self.add(CREATE if not st.get("replace") else REPLACE, "function",
                     (self.create_name(parts),), st, "aggregate")
        elif kind == "OBJECT_TYPE":
            self.add(CREATE, "type", (self.create_name(parts),), st, "type")
        self.walk(st.get("args"))
        for d in st.get("definition") or []:
            de = d.get("DefElem") or {}
            arg = de.get("arg")
            # only these options name types; elsewhere a bare word is just a word
            if de.get("defname") in _TYPE_OPTIONS and isinstance(arg, dict) \
                    and "TypeName" in arg:
                self.ref_type(arg["TypeName"])

    def st_CreateSeqStmt(self, st: Node) -> None:
        rv = st.get("sequence") or {}
        self.add(CREATE, "relation", (self.create_name(self.rel_parts(rv)),), rv, "sequence",
                 guarded=bool(st.get("if_not_exists")))
        self.seq_options(st, rv)

    def st_AlterSeqStmt(self, st: Node) -> None:
        rv = st.get("sequence") or {}
        self.ref_relation(rv, "sequence", guarded=bool(st.get("missing_ok")))
        self.seq_options(st, rv)

    def seq_options(self, st: Node, rv: Node) -> None:
        for opt in st.get("options") or []:
            de = opt.get("DefElem") or {}
            if de.get("defname") == "owned_by":
                parts = _strs((de.get("arg") or {}).get("List", {}).get("items"))
                if len(parts) >= 2:
                    table = self.ref_names(parts[:-1], "relation")
                    self.add(REF, "relation", table, rv, "table")
                    self.ref_columns(table, [parts[-1]], rv)
            elif de.get("defname") == "as":
                self.walk(de.get("arg"))

    def st_CreateFunctionStmt(self, st: Node) -> None:
        parts = _strs(st.get("funcname"))
        display = "procedure" if st.get("is_procedure") else "function"
        action = REPLACE if st.get("replace") else CREATE
        self.add(action, "function", (self.create_name(parts),), st, display)
        params = {parts[-1]} if parts else set()
        for param in st.get("parameters") or []:
            fp = param.get("FunctionParameter") or {}
            if fp.get("name"):
                params.add(fp["name"])
            self.ref_type(fp.get("argType"))
            if fp.get("defexpr"):
                self.walk(fp["defexpr"])
        self.ref_type(st.get("returnType"))
        language = ""
        body: Node | None = None
        for opt in st.get("options") or []:
            de = opt.get("DefElem") or {}
            if de.get("defname") == "language":
                language = (_sval(de.get("arg")) or "").lower()
            elif de.get("defname") == "as":
                body = de
        saved_params = self.params
        self.params = frozenset(params)
        try:
            self.function_body(st, language, body)
        finally:
            self.params = saved_params

    def function_body(self, st: Node, language: str, body: Node | None) -> None:
        if st.get("sql_body"):
            self.walk(st["sql_body"])
            return
        if body is None:
            return
        items = ((body.get("arg") or {}).get("List") or {}).get("items") or []
        if len(items) != 1:
            return  # C functions: AS 'obj_file', 'link_symbol'
        source = _sval(items[0]) or ""
        offset = self.body_offset(body)
        if language == "sql":
            self.sub_sql(source, offset, weak=not self.check_bodies)
        elif language == "plpgsql" and self.stmt_text():
            self.plpgsql(self.stmt_text(), offset, source, weak=True)

    def body_offset(self, de: Node) -> int:
        """Byte offset (in the file) where a dollar- or single-quoted body starts."""
        loc = de.get("arg_location", -1)
        if not isinstance(loc, int) or loc < 0:
            return -1
        start = self.base + loc
        m = _DOLLAR.match(self.data, start)
        return start + (len(m.group(0)) if m else 0)

    def st_DoStmt(self, st: Node) -> None:
        language = "plpgsql"
        body: Node | None = None
        for arg in st.get("args") or []:
            de = arg.get("DefElem") or {}
            if de.get("defname") == "language":
                language = (_sval(de.get("arg")) or "").lower()
            elif de.get("defname") == "as":
                body = de
        if language != "plpgsql" or body is None:
            self.notes.append(Note("CAL010", self.fallback_line, 1,
                                   f"DO block in language {language} is not analysed",
                                   "Objects it creates are unknown to calctl; declare them with "
                                   "--assume-exists if other files use them."))
            return
        if self.stmt_text():
            source = _sval(body.get("arg")) or ""
            self.plpgsql(self.stmt_text(), self.body_offset(body), source, weak=True,
                         is_do=True)

    def st_CreateTrigStmt(self, st: Node) -> None:
        rv = st.get("relation") or {}
        table = self.ref_relation(rv)
        action = REPLACE if st.get("replace") else CREATE
        if table:
            self.add(action, "trigger", (f"{table[0]}.{st.get('trigname', '')}",), rv,
                     "trigger")
        self.ref_function(_strs(st.get("funcname")), rv)
        if st.get("whenClause"):
            self.walk(st["whenClause"], None)
        self.ref_columns(table, _strs(st.get("columns")), rv)

    def st_CreateEventTrigStmt(self, st: Node) -> None:
        self.ref_function(_strs(st.get("funcname")), st)

    def st_CreatePolicyStmt(self, st: Node) -> None:
        rv = st.get("table") or {}
        table = self.ref_relation(rv)
        if table:
            self.add(CREATE, "policy", (f"{table[0]}.{st.get('policy_name', '')}",), rv,
                     "policy")
        scope: dict[str, tuple[str, ...] | None] = {rv.get("relname", ""): table or None}
        for key in ("qual", "with_check"):
            if st.get(key):
                self.walk(st[key], _scope(scope, scope))

    def st_AlterPolicyStmt(self, st: Node) -> None:
        rv = st.get("table") or {}
        table = self.ref_relation(rv)
        if table:
            self.add(REF, "policy", (f"{table[0]}.{st.get('policy_name', '')}",), rv, "policy")
        scope: dict[str, tuple[str, ...] | None] = {rv.get("relname", ""): table or None}
        for key in ("qual", "with_check"):
            if st.get(key):
                self.walk(st[key], _scope(scope, scope))

    def st_CommentStmt(self, st: Node) -> None:
        obj = st.get("object") or {}
        kind, names, display = self.object_names(st.get("objtype", ""), obj)
        if kind:
            self.add(REF, kind, names, obj.get("TypeName") or st, display)

    def st_GrantStmt(self, st: Node) -> None:
        objtype = st.get("objtype", "")
        if st.get("targtype") == "ACL_TARGET_ALL_IN_SCHEMA":
            for obj in st.get("objects") or []:
                name = _sval(obj)
                if name and name not in _BUILTIN_SCHEMAS and name != "public":
                    self.add(REF, "schema", (name,), st, "schema")
            return
        if st.get("targtype") != "ACL_TARGET_OBJECT":
            return
        for obj in st.get("objects") or []:
            kind, names, display = self.object_names(objtype, obj)
            if kind and not (kind == "schema" and names == ("public",)):
                self.add(REF, kind, names, obj.get("RangeVar") or st, display)

    def st_CopyStmt(self, st: Node) -> None:
        rv = st.get("relation")
        if rv:
            table = self.ref_relation(rv)
            self.ref_columns(table, _strs(st.get("attlist")), rv)
        if st.get("query"):
            self.walk(st["query"])

    def st_TruncateStmt(self, st: Node) -> None:
        for rel in st.get("relations") or []:
            if "RangeVar" in rel:
                self.ref_relation(rel["RangeVar"])
        self.destructive(st, "TRUNCATE")

    def st_VacuumStmt(self, st: Node) -> None:
        self.walk(st.get("rels"))
        self.non_transactional(st, "VACUUM" if st.get("is_vacuumcmd") else "ANALYZE",
                               real=bool(st.get("is_vacuumcmd")))

    def st_ReindexStmt(self, st: Node) -> None:
        if st.get("relation"):
            self.ref_relation(st["relation"], "index")
        for p in st.get("params") or []:
            if (p.get("DefElem") or {}).get("defname") == "concurrently":
                self.non_transactional(st, "REINDEX CONCURRENTLY")

    def st_TransactionStmt(self, st: Node) -> None:
        self.explicit_tx = True

    def st_CreatedbStmt(self, st: Node) -> None:
        self.non_transactional(st, "CREATE DATABASE")

    def st_DropdbStmt(self, st: Node) -> None:
        self.non_transactional(st, "DROP DATABASE")

    def st_AlterSystemStmt(self, st: Node) -> None:
        self.non_transactional(st, "ALTER SYSTEM")

    def st_CreateTableSpaceStmt(self, st: Node) -> None:
        self.non_transactional(st, "CREATE TABLESPACE")

    def st_RuleStmt(self, st: Node) -> None:
        if st.get("relation"):
            self.ref_relation(st["relation"])

    def st_AlterFunctionStmt(self, st: Node) -> None:
        owa = st.get("func") or {}
        self.ref_function(_strs(owa.get("objname")), st)

    def st_AlterOwnerStmt(self, st: Node) -> None:
        obj = st.get("object") or {}
        kind, names, display = self.object_names(st.get("objectType", ""), obj)
        if kind:
            self.add(REF, kind, names, st, display)

    def st_ExplainStmt(self, st: Node) -> None:
        self.walk(st.get("query"))

    # ------------------------------------------------------------ notes

    def non_transactional(self, st: Node, what: str, *, real: bool = True) -> None:
        if real:
            self.non_tx.append((self.fallback_line, what))

    def destructive(self, node: Node, what: str) -> None:
        self.notes.append(Note(
            "CAL008", self.fallback_line, 1,
            f"{what} destroys data",
            "Check that nothing still needs it and that a backup exists, then silence this "
            "statement with `-- calctl: ignore CAL008`.",
        ))

    # ------------------------------------------------------------ bodies

    _stmt_text: str | None = ""  # None: not decoded yet
    _stmt_start = 0  # byte offset where the statement being walked starts

    def stmt_text(self) -> str:
        """The statement being walked, decoded on first use (only PL/pgSQL bodies need it)."""
        if self._stmt_text is None:
            self._stmt_text = self.data[self._stmt_start:self._stmt_end].decode("utf-8",
                                                                              "replace")
        return self._stmt_text

    def sub_sql(self, source: str, offset: int, *, weak: bool) -> None:
        """Parse SQL held in a string (a function body) and walk it."""
        parser = _parser or _load_parser()
        try:
            tree = _loads(parser.parse_sql_json(source))
        except Exception:
            return  # a body pglast cannot parse: PostgreSQL itself would refuse it
        saved = (self.base, self.weak, self.line_base, self._body_text)
        self.weak = self.weak or weak
        if offset >= 0:
            self.base = offset
            self.line_base = 0
        else:
            self.line_base = self.fallback_line
            self._body_text = source
        try:
            for raw in tree.get("stmts") or []:
                for key, value in (raw.get("stmt") or {}).items():
                    if key == "SelectStmt":  # the usual body: statement(), two calls fewer
                        self.select(value, None)
                    else:
                        self.statement(key, value)
        finally:
            self.base, self.weak, self.line_base, self._body_text = saved

    def plpgsql(self, stmt_text: str, offset: int, source: str, *, weak: bool,
                is_do: bool = False) -> None:
        parser = _parser or _load_parser()
        try:
            tree = _loads(parser.parse_plpgsql_json(stmt_text))
        except Exception:
            return
        first_line = self.lines.line(offset) if offset >= 0 else self.fallback_line
        queries: list[tuple[int, str]] = []
        dynamic = _collect_plpgsql(tree, queries)
        saved = (self.base, self.weak, self.line_base, self._body_text, self.fallback_line)
        saved_stmt = self._stmt_text
        self._stmt_text = ""  # nested bodies are not re-parsed as PL/pgSQL
        self.weak = self.weak or weak
        try:
            for lineno, query in queries:
                line = first_line + max(lineno - 1, 0)
                self.fallback_line = line
                self.line_base = line
                self._body_text = query
                try:
                    sub = _loads(parser.parse_sql_json(query))
                except Exception:
                    continue
                for raw in sub.get("stmts") or []:
                    for key, value in (raw.get("stmt") or {}).items():
                        if key == "VariableSetStmt":
                            continue
                        self.statement(key, value)
        finally:
            (self.base, self.weak, self.line_base, self._body_text,
             self.fallback_line) = saved
            self._stmt_text = saved_stmt
        if is_do and dynamic:
            self.notes.append(Note(
                "CAL010", self.fallback_line, 1,
                "DO block runs dynamic SQL (EXECUTE); what it creates or uses is not analysed",
                "If other files use objects it creates, declare them with --assume-exists "
                "or write the DDL statically.",
            ))


# node name → what the generic walk does with such a node (it descends into all others;
# None: nothing, for leaves that cannot hold a name to resolve)
_WALKERS: dict[str, Callable[[Extractor, Node, dict[str, tuple[str, ...] | None] | None,
                              frozenset[str]], object] | None] = {
    "String": None, "A_Const": None, "Integer": None, "Float": None, "Boolean": None,
    "BitString": None, "A_Star": None, "ParamRef": None, "SQLValueFunction": None,
    "ColumnRef": Extractor.column_ref,
    "FuncCall": Extractor.func_call,
    "SelectStmt": lambda ext, st, scope, outputs: ext.select(st, scope),
    "RangeVar": lambda ext, rv, scope, outputs: ext.ref_relation(rv),
    "TypeCast": Extractor.type_cast,
    "ResTarget": Extractor.res_target,
    "A_Expr": Extractor.a_expr,
    "TypeName": lambda ext, tn, scope, outputs: ext.ref_type(tn),
    "RangeSubselect": lambda ext, sub, scope, outputs: ext.walk(sub.get("subquery"), scope),
    "InsertStmt": lambda ext, st, scope, outputs: ext.dml("InsertStmt", st, scope),
    "UpdateStmt": lambda ext, st, scope, outputs: ext.dml("UpdateStmt", st, scope),
    "DeleteStmt": lambda ext, st, scope, outputs: ext.dml("DeleteStmt", st, scope),
    "MergeStmt": lambda ext, st, scope, outputs: ext.dml("MergeStmt", st, scope),
}

# statement node name → Extractor.st_<name>
_HANDLERS: dict[str, Callable[[Extractor, Node], None]] = {
    name[3:]: handler for name, handler in vars(Extractor).items() if name.startswith("st_")
}


class _Scope(dict[str, "tuple[str, ...] | None"]):
    """Alias → table for qualified column names; ``visible`` decides unqualified ones.

    Unqualified column names resolve only when exactly one table is visible at
    this query level (otherwise they are left alone rather than guessed).
    """

    __slots__ = ("visible",)
    visible: dict[str, tuple[str, ...] | None] | None


def _scope(names: dict[str, tuple[str, ...] | None],
           visible: dict[str, tuple[str, ...] | None] | None) -> _Scope:
    # a factory rather than _Scope.__init__: half the cost without the Python-level
    # __init__ and super() call (a scope is made per query level and per expression)
    scope = _Scope(names)
    scope.visible = visible
    return scope


def _single_table(scope: dict[str, tuple[str, ...] | None]) -> tuple[str, ...] | None:
    """The table an unqualified column name belongs to, when exactly one is visible."""
    visible = scope.visible if isinstance(scope, _Scope) else scope
    if visible is None or len(visible) != 1:
        return None
    (table,) = visible.values()
    return table


def _collect_plpgsql(tree: Any, out: list[tuple[int, str]]) -> bool:
    """SQL texts inside a PL/pgSQL tree as (line, query); True when it has EXECUTE."""
    dynamic = False
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, lineno = stack.pop()
        if isinstance(node, list):
            stack.extend((item, lineno) for item in reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        lineno = node.get("lineno", lineno) if isinstance(node.get("lineno"), int) else lineno
        for key, value in node.items():
            if key == "PLpgSQL_stmt_dynexecute" or key == "PLpgSQL_stmt_dynfors":
                dynamic = True
            if key == "PLpgSQL_expr" and isinstance(value, dict):
                query = value.get("query", "")
                mode = value.get("parseMode", 0)
                if mode == 0:
                    out.append((lineno, query))
                elif mode == 2:
                    out.append((lineno, "SELECT " + query))
                elif mode in (3, 4, 5):
                    _, sep, tail = query.partition(":=")
                    if not sep:
                        _, sep, tail = query.partition("=")
                    if sep:
                        out.append((lineno, "SELECT " + tail))
                continue
            if key == "datums":
                continue
            if isinstance(value, (dict, list)):
                stack.append((value, lineno))
    return dynamic


def _ignores(text: str) -> tuple[tuple[str, ...], list[tuple[int, tuple[str, ...]]]]:
    """File-wide ignore codes, and (line, codes) of statement-level ignore comments."""
    file_codes: list[str] = []
    lines: list[tuple[int, tuple[str, ...]]] = []
    if "calctl:" not in text:
        return (), lines
    for m in _IGNORE.finditer(text):
        codes = tuple(c.strip().upper() for c in re.split(r"[,\s]+", m.group(2)) if c.strip())
        if m.group(1):
            file_codes.extend(codes)
        else:
            lines.append((text.count("\n", 0, m.start()) + 1, codes))
    return tuple(file_codes), lines


def split_statements(text: str) -> list[tuple[int, int]]:
    """(start, end) character ranges of the statements of ``text`` (the one splitter,
    :func:`calctl.sql.split.pieces`: PostgreSQL's scanner, statements it cannot parse
    included)."""
    from calctl.sql.split import pieces

    return pieces(text)[0]


def _parse_pieces(text: str, data: bytes, ext: Extractor, notes: list[Note],
                  extra: list[Fact], search_path: Sequence[str]) -> list[dict[str, Any]]:
    parser = _parser or _load_parser()
    from calctl.sql.fallback import analyse_tokens
    from calctl.sql.split import pieces  # only files the parser rejects come here

    ascii_only = len(data) == len(text)
    stmts: list[dict[str, Any]] = []
    failed: list[tuple[int, int, str]] = []
    ranges, uncovered = pieces(text)
    if uncovered is not None:  # the splitter's own check: never seen, but never silent
        line, col = ext.lines.pos(len(text[:uncovered].encode("utf-8")))
        failed.append((line, col, "text the statement splitter cannot account for"))
    for start, end in ranges:
        piece = text[start:end]
        base = start if ascii_only else len(text[:start].encode("utf-8"))
        try:
            sub = _loads(parser.parse_sql_json(piece)).get("stmts") or []
        except parser.ParseError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            # pglast's error position counts characters (PostgreSQL's cursor position)
            offset = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0
            if not ascii_only:
                offset = len(piece[:offset].encode("utf-8"))
            line, col = ext.lines.pos(base + offset)
            failed.append((line, col, message))
            first_line = ext.lines.line(base)
            facts, _ = analyse_tokens(piece, search_path)
            extra.extend((*f[:3], f[3] + first_line - 1, *f[4:]) for f in facts)
            continue
        end_byte = base + len(piece.encode("utf-8")) if not ascii_only else end
        for raw in sub:
            raw["_base"] = base
            raw["_end"] = end_byte
            stmts.append(raw)
    if failed:
        line, col, message = failed[0]
        more = f" ({len(failed) - 1} more statements fail to parse)" if len(failed) > 1 else ""
        notes.append(Note(
            "CAL006", line, col,
            f"PostgreSQL parser: {message} (line {line}, column {col}){more}; the statements "
            "it rejects are analysed approximately from tokens",
            "Fix the syntax; objects those statements create or use may be missed.",
        ))
    return stmts


def analyse(job: AnalysisInput) -> FileAnalysis:
    """Extract the facts of one migration file's (up) SQL text. Never raises on bad SQL.
    Reads nothing but ``job`` (the parse cache keys on it)."""
    text, autocommit, search_path, defines = job
    parser = _parser or _load_parser()
    notes: list[Note] = []
    # render() looks for "{{" and "${": a text without "{" (most) has neither, and
    # that one-character search is ~20x cheaper than those two
    rendered, unrendered = render(text, dict(defines)) if "{" in text else (text, [])
    approximate = False
    if unrendered:
        line, name = unrendered[0]
        approximate = True
        notes.append(Note(
            "CAL009", line, 1,
            f"template placeholder {{{{{name}}}}} is not rendered; the file is analysed "
            "approximately",
            f"Pass --define {name.split()[-1].strip(chr(34)).lstrip('.')}=VALUE "
            "or set [migrate] defines in calctl.toml.",
        ))
    if "\\" in rendered:
        # psql meta-commands (\set, \connect, \echo …) are psql's, not SQL: blank them,
        # keeping every position
        rendered = _PSQL_META.sub(lambda m: " " * len(m.group(0)), rendered)
    ext = Extractor(rendered, search_path)
    file_ignores, ignore_lines = _ignores(text)
    data = ext.data
    extra_facts: list[Fact] = []
    try:
        stmts = _loads(parser.parse_sql_json(rendered)).get("stmts") or []
    except parser.ParseError:
        # parse statement by statement: only the statements PostgreSQL rejects are
        # read approximately, the rest of the file keeps exact facts
        approximate = True
        stmts = _parse_pieces(rendered, data, ext, notes, extra_facts, search_path)
    spans: list[Span] = []
    prev_last = 0
    newlines = ext.lines.newlines
    leading = _LEADING.match
    handlers = _HANDLERS
    for raw in stmts:
        ext.base = base = raw.get("_base", 0)
        start = base + raw.get("stmt_location", 0)
        length = raw.get("stmt_len", 0) or (raw.get("_end", len(data)) - start)
        lead = leading(data, start)
        first = lead.end() if lead else start
        # _Lines.line(), inlined (offsets here are never negative)
        ext.fallback_line = fallback_line = bisect_left(newlines, first) + 1
        ext._stmt_end = start + length
        ext._stmt_start = start
        ext._stmt_text = None
        last = bisect_left(newlines, max(start + length - 1, start)) + 1
        # comments above a statement (after the previous one's last line) belong to it
        codes = tuple(c for ln, cs in ignore_lines if prev_last < ln <= last
                      for c in cs) if ignore_lines else ()
        prev_last = last
        # Span(fallback_line, last, codes) without its Python-level __new__
        spans.append(tuple.__new__(Span, (fallback_line, last, codes)))
        for key, value in (raw.get("stmt") or {}).items():
            try:
                # ext.statement(), inlined
                handler = handlers.get(key)
                if handler is not None:
                    handler(ext, value)
                else:
                    ext.statement(key, value)
            except (KeyError, TypeError, AttributeError, IndexError, ValueError):
                # an unexpected tree shape must not stop the analysis of the file
                approximate = True
    ext.base = 0
    ext.facts.extend(extra_facts)
    notes.extend(ext.notes)
    explicit_marker = bool(_NO_TX_MARK.search(text)) or autocommit
    # A file's own BEGIN/COMMIT does not make it non-transactional: the applier drops
    # them and runs the file in its single transaction, which is what its author meant.
    transaction = not (explicit_marker or ext.non_tx)
    # ALTER TYPE … ADD VALUE: the new value cannot be used in the same transaction
    for end, value, line in ext.enum_values:
        rest = data[end:]
        needle = ("'" + value.replace("'", "''") + "'").encode()
        if needle in rest:
            used = ext.lines.line(end + rest.index(needle))
            ext.non_tx.append((line, f"ALTER TYPE … ADD VALUE '{value}' (used on line {used})"))
            transaction = False
    if ext.non_tx and not explicit_marker:
        for line, what in ext.non_tx:
            notes.append(Note(
                "CAL007", line, 1,
                f"{what} cannot run inside a transaction block",
                "calctl runs this file statement by statement outside a transaction; mark it "
                "with `-- calctl: no-transaction` (or put the statement in its own file) so "
                "every tool does the same.",
            ))
    facts = tuple(map(as_fact, ext.facts))
    return FileAnalysis(facts, tuple(notes), tuple(spans), file_ignores, approximate,
                        transaction, len(stmts), summarise(facts))


def analyse_json(text: str) -> Any:
    """The raw pglast JSON tree (for debugging)."""
    parser = _parser or _load_parser()
    return json.loads(parser.parse_sql_json(text))
