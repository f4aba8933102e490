"""Queries and data changes: SELECT (scopes of FROM items, CTEs), INSERT, UPDATE, DELETE,
MERGE, COPY, EXPLAIN."""

from __future__ import annotations

from calctl.sql.extract.core import (
    ORDERING_CLAUSES,
    Node,
    Scope,
    scope_of,
    setting_off,
    strs,
    sval,
)
from calctl.sql.extract.expressions import Expressions
from calctl.sql.facts import CREATE

_NO_LIST: Node = {}


class Queries(Expressions):
    """SELECT and DML statements."""

    def from_item(self, node: Node, scope: Scope) -> None:
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

    def select(self, st: Node, outer: Scope | None) -> None:
        # (clauses are looked up by membership tests rather than .get calls: most are
        # absent, and walk() ignores empty values)
        pushed = self.with_clause(st["withClause"]) if "withClause" in st else False
        try:
            if st.get("op", "SETOP_NONE") != "SETOP_NONE":
                self.select((st.get("larg") or {}), outer)
                self.select((st.get("rarg") or {}), outer)
                return
            if st.get("valuesLists"):
                self.values_lists(st["valuesLists"], outer)
                return
            scope: Scope = {}
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
            level = scope_of(merged, scope if scope else None)
            if targets:
                self.walk(targets, level, outputs)
            if "whereClause" in st:
                self.walk(st["whereClause"], level, outputs)
            if "havingClause" in st:
                self.walk(st["havingClause"], level, outputs)
            if "distinctClause" in st:
                self.walk(st["distinctClause"], level, outputs)
            if not ORDERING_CLAUSES.isdisjoint(st):
                ordering = scope_of(merged, None)
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

    def values_lists(self, rows: list[Node], scope: Scope | None) -> None:
        """``walk(rows, scope)`` without a call per row and per constant: seed data is
        thousands of rows of constants, which hold nothing to resolve."""
        walk = self.walk
        for row in rows:
            items = row.get("List", _NO_LIST).get("items") if type(row) is dict else None
            if type(items) is not list or len(row) != 1 or len(row["List"]) != 1:
                walk(row, scope)
                continue
            for item in items:
                if "A_Const" not in item or len(item) != 1:
                    walk(item, scope)

    def dml(self, kind: str, st: Node, outer: Scope | None) -> None:
        pushed = self.with_clause(st.get("withClause"))
        try:
            rv = st.get("relation") or {}
            table = self.ref_relation(rv, written=True)
            alias = str((rv.get("alias") or {}).get("aliasname") or rv.get("relname") or "")
            scope: Scope = {alias: table or None}
            if kind == "InsertStmt":
                cols = [(t.get("ResTarget") or {}).get("name", "") for t in st.get("cols") or []]
                self.ref_columns(table, cols, rv)
                self.walk(st.get("selectStmt"), outer)
                conflict = st.get("onConflictClause")
                if conflict:
                    self.walk(conflict.get("targetList"), scope_of(scope, scope))
                    self.walk(conflict.get("whereClause"), scope_of(scope, scope))
                    infer = conflict.get("infer") or {}
                    for elem in infer.get("indexElems") or []:
                        name = (elem.get("IndexElem") or {}).get("name")
                        if name:
                            self.ref_columns(table, [name], rv)
            elif kind == "UpdateStmt":
                for t in st.get("targetList") or []:
                    target = t.get("ResTarget") or {}
                    before = len(self.facts)
                    self.ref_columns(table, (target.get("name", ""),), rv)
                    value = target.get("val")
                    if value and "A_Const" in value and len(self.facts) > before:
                        self.compared(before, value, target)  # SET status = 'aborting'
                for item in st.get("fromClause") or []:
                    self.from_item(item, scope)
                visible = scope if len(scope) == 1 else None
                for t in st.get("targetList") or []:
                    self.walk((t.get("ResTarget") or {}).get("val"), scope_of(scope, visible))
                self.walk(st.get("whereClause"), scope_of(scope, visible))
            elif kind == "DeleteStmt":
                for item in st.get("usingClause") or []:
                    self.from_item(item, scope)
                visible = scope if len(scope) == 1 else None
                self.walk(st.get("whereClause"), scope_of(scope, visible))
            else:  # MERGE: tables only
                self.walk(st.get("sourceRelation"), None)
                self.walk(st.get("joinCondition"), None)
            if st.get("returningList"):
                self.walk(st["returningList"], None)
        finally:
            if pushed:
                self.ctes.pop()

    def st_SelectStmt(self, st: Node) -> None:
        if not st.get("fromClause"):  # SELECT set_config('check_function_bodies', …)
            for target in st.get("targetList") or []:
                call = ((target.get("ResTarget") or {}).get("val") or {}).get("FuncCall")
                if call and strs(call.get("funcname"))[-1:] == ("set_config",):
                    args = call.get("args") or []
                    if len(args) >= 2 and sval(args[0]) == "check_function_bodies":
                        self.check_bodies = not setting_off(args[1])
        self.select(st, None)

    def st_InsertStmt(self, st: Node) -> None:
        self.dml("InsertStmt", st, None)

    def st_UpdateStmt(self, st: Node) -> None:
        self.dml("UpdateStmt", st, None)

    def st_DeleteStmt(self, st: Node) -> None:
        self.dml("DeleteStmt", st, None)

    def st_MergeStmt(self, st: Node) -> None:
        self.dml("MergeStmt", st, None)

    def st_CopyStmt(self, st: Node) -> None:
        rv = st.get("relation")
        if rv:
            table = self.ref_relation(rv)
            self.ref_columns(table, strs(st.get("attlist")), rv)
        if st.get("query"):
            self.walk(st["query"])

    def st_ExplainStmt(self, st: Node) -> None:
        self.walk(st.get("query"))
