"""Expressions: the generic walk of expression and query trees (column references, calls,
casts, operators), dispatched through ``WALKERS``; and ``statement()``, the dispatch of
a statement node to its family's ``st_`` method."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from calctl.sql.extract.core import (
    HANDLERS,
    SEQ_FUNCS,
    WALKERS,
    Base,
    Node,
    Scope,
    single_table,
    strs,
    sval,
)
from calctl.sql.facts import COMPARED, KIND, NAMES, REF


class Expressions(Base):
    """Walks expressions; resolves the names they use."""

    def statement(self, name: str, st: Node) -> None:
        handler = HANDLERS.get(name)
        if handler is not None:
            handler(self, st)
        else:
            self.walk({name: st})

    def walk(self, node: Any, scope: Scope | None = None,
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
        walkers = WALKERS
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

    def res_target(self, rt: Node, scope: Scope | None,
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

    def a_expr(self, expr: Node, scope: Scope | None,
               outputs: frozenset[str]) -> None:
        # likewise for an operator expression (kind, name, lexpr, rexpr, location)
        if "lexpr" in expr:
            value = expr["lexpr"]
            if "ColumnRef" in value:
                before = len(self.facts)
                self.column_ref(value["ColumnRef"], scope, outputs)
                if len(self.facts) > before and "rexpr" in expr and compares(expr):
                    self.compared(before, expr["rexpr"], expr)
            elif value:
                self.walk(value, scope, outputs)
        if "rexpr" in expr:
            value = expr["rexpr"]
            if "ColumnRef" in value:
                self.column_ref(value["ColumnRef"], scope, outputs)
            elif value:
                self.walk(value, scope, outputs)

    def compared(self, since: int, other: Node, expr: Node) -> None:
        """``status = 'aborting'``, ``status IN ('todo', 'aborting')``: the column (its
        facts from ``since`` on) compared with string literals. PostgreSQL reads each
        literal as a value of the column's type now (in a comparison: ``status || 'x'``
        reads text): for an enum column, a label that must exist. The analysis does not
        know the type here; the fact (kind ``compared``, each name ``column`` + US +
        literal) becomes a use of the label in resolution
        (``names.labels.compared_label``), where the column's definition is known."""
        if "A_Const" in other:
            literals = [sval(other)]
        elif "List" in other:
            literals = [sval(item) for item in other["List"].get("items") or ()
                        if "A_Const" in item]
        else:
            return
        columns = [name for fact in self.facts[since:] if fact[KIND] == "column"
                   for name in fact[NAMES]]
        for literal in literals:
            if literal:
                self.add(REF, "compared", tuple(f"{c}{COMPARED}{literal}" for c in columns),
                         expr, "enum label")

    def argued(self, parts: Sequence[str], args: list[Node]) -> None:
        """``f(x, 'EVICTED')``: a string literal passed to a function of this history,
        read as a value of the argument's type — for an enum argument, a label that must
        exist. The analysis does not know the argument types here; the fact (kind
        ``argued``, each name function + US + position + US + literal) becomes a use of
        the label in resolution (``names.labels.argued_label``)."""
        functions = self.ref_names(parts, "function")
        if not functions:
            return  # (a built-in)
        for at, arg in enumerate(args):
            literal = sval(arg) if "A_Const" in arg else None
            if literal:
                self.add(REF, "argued", tuple(f"{f}{COMPARED}{at}{COMPARED}{literal}"
                                              for f in functions), arg, "enum label")

    def type_cast(self, tc: Node, scope: Scope | None,
                  outputs: frozenset[str]) -> None:
        self.ref_type(tc.get("typeName"))
        arg = tc.get("arg")
        tnames = strs((tc.get("typeName") or {}).get("names"))
        literal = sval(arg) if isinstance(arg, dict) else None
        if literal and tnames and tnames[-1] == "regclass":
            self.ref_relation_text(literal, tc)
            return
        if literal is not None and tnames:
            # 'doing'::job_status: PostgreSQL reads the label now, so it must exist (a
            # type that is no enum has no labels: the use binds to nothing)
            types = self.ref_names(tnames, "type")
            if types:
                self.add(REF, "label", tuple(f"{t}.{literal}" for t in types), tc,
                         "enum label")
        elif isinstance(arg, dict) and "CaseExpr" in arg and tnames:
            # CASE … THEN 'doing' … END::job_status: each result is read as a label
            case = arg["CaseExpr"]
            results = [(w.get("CaseWhen") or {}).get("result") for w in case.get("args") or ()]
            results.append(case.get("defresult"))
            types = self.ref_names(tnames, "type")
            for result in results:
                label = sval(result) if isinstance(result, dict) and "A_Const" in result \
                    else None
                if label and types:
                    self.add(REF, "label", tuple(f"{t}.{label}" for t in types), result,
                             "enum label")
        self.walk(arg, scope, outputs)

    def ref_relation_text(self, text: str, node: Node) -> None:
        parts = tuple(p.strip('"') if p.startswith('"') else p.lower()
                      for p in text.split("."))
        self.add(REF, "relation", self.ref_names(parts, "relation"), node, "table")

    def func_call(self, fc: Node, scope: Scope | None,
                  outputs: frozenset[str]) -> None:
        parts = strs(fc.get("funcname"))
        self.ref_function(parts, fc)
        args = fc.get("args") or []
        if args and any("A_Const" in a for a in args):
            self.argued(parts, args)
        if parts and parts[-1] in SEQ_FUNCS and args:
            literal = sval(args[0])
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

    def column_ref(self, cr: Node, scope: Scope | None,
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
            if alias in self.params or col in SYSTEM_COLUMNS:
                return
            table = scope.get(alias)
            if table:
                if len(table) == 1 and col:
                    self.ref_column(f"{table[0]}.{col}", cr)
                else:
                    self.ref_columns(table, (col,), cr)
            return
        names = strs(fields)
        if len(names) != len(fields) or not names:
            return  # contains * or something else
        if names[0] in self.params:
            return  # a function parameter ($1 by name, or function_name.param)
        if names[-1] in SYSTEM_COLUMNS:
            return
        if len(names) == 1:
            if names[0] in outputs or names[0] in self.variables:
                return
            table = single_table(scope)
            if table:
                self.ref_columns(table, names, cr)
        elif len(names) == 2:
            table = scope.get(names[0])
            if table:
                self.ref_columns(table, (names[1],), cr)


# every table has these; no migration makes them
SYSTEM_COLUMNS = frozenset({"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid"})


# the operators of a comparison: PostgreSQL reads a literal beside a column as a value
# of the column's type (``||`` and the rest may read it as another type, text)
COMPARISONS = frozenset({"=", "<>", "!=", "<", ">", "<=", ">="})


def compares(expr: Node) -> bool:
    """Whether an ``A_Expr`` compares its two sides (``=``, ``<``, ``IN``, ``IS DISTINCT
    FROM``…)."""
    kind = expr.get("kind")
    if kind in ("AEXPR_IN", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"):
        return True
    if kind != "AEXPR_OP":
        return False
    name = expr.get("name") or []
    return len(name) == 1 and (sval(name[0]) or "") in COMPARISONS
