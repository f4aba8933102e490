"""Dynamic SQL the analysis can write out: ``EXECUTE`` of a text known when the file is
read.

A migration that does the same to a list of tables loops over the names and builds each
statement (``FOREACH t IN ARRAY ARRAY['flow', 'machine'] LOOP EXECUTE format('ALTER
TABLE %I ENABLE ROW LEVEL SECURITY', t); … END LOOP``, the list inline or in a declared
variable's default). Those statements run like the block's others, and need the tables
as much. When every argument of ``format`` is a string constant, the loop's variable,
or a ``||`` of those (a cast allowed), and the format uses only ``%s``, ``%I``, ``%L``
and ``%%``, the statements are written out for each name and read as if the block held
them. Anything else (a name read from the catalog, a function call) stays unread, as
before: CAL010 says so.
"""

from __future__ import annotations

import re
from typing import Any

from calctl.sql.extract.core import load_parser, loads

Bound = tuple[str, tuple[str, ...]]  # (loop variable, the names it takes)

_SPEC = re.compile(r"%(.)")
_MAX_NAMES = 200  # (a longer list is data, not a list of objects)


def loop_names(foreach: dict[str, Any], function: dict[str, Any]) -> Bound | None:
    """The variable of a ``FOREACH … IN ARRAY`` loop and the strings it takes, when the
    array is an ``ARRAY[…]`` of string constants, written there or as the default of a
    variable the block (``function``: the PL/pgSQL tree's function) declares and never
    assigns; else None."""
    datums = function.get("datums") or []
    varno = foreach.get("varno")
    if not isinstance(varno, int) or not 0 <= varno < len(datums):
        return None
    var = (datums[varno] or {}).get("PLpgSQL_var") or {}
    name = var.get("refname")
    query = ((foreach.get("expr") or {}).get("PLpgSQL_expr") or {}).get("query")
    if not isinstance(name, str) or not isinstance(query, str):
        return None
    node = _expression(query)
    ref = _column_ref(node)
    if ref is not None:  # a variable: its declared default
        node = None
        for at, datum in enumerate(datums):
            declared = (datum or {}).get("PLpgSQL_var") or {}
            if declared.get("refname") == ref:
                default = ((declared.get("default_val") or {}).get("PLpgSQL_expr") or {})
                node = None if _assigned(function, at) else \
                    _expression(default.get("query") or "")
    while isinstance(node, dict) and "TypeCast" in node:
        node = node["TypeCast"].get("arg")
    elements = ((node or {}).get("A_ArrayExpr") or {}).get("elements") \
        if isinstance(node, dict) else None
    if not elements or len(elements) > _MAX_NAMES:
        return None
    values = [_constant(e) for e in elements]
    if any(v is None for v in values):
        return None
    return name, tuple(v for v in values if v is not None)


def _assigned(function: dict[str, Any], varno: int) -> bool:
    """Whether the body assigns the variable ``varno`` (``:=``, or ``INTO`` it)."""
    stack: list[Any] = [function.get("action"), function.get("datums")]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if node.get("varno") == varno:
                return True
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
    return False


def written_out(execute: dict[str, Any], bound: Bound | None) -> list[str] | None:
    """The statements an ``EXECUTE`` runs (one per name of the loop ``bound``, or one
    when its text uses no loop variable), or None when they cannot be known."""
    query = ((execute.get("query") or {}).get("PLpgSQL_expr") or {}).get("query")
    if not isinstance(query, str):
        return None
    node = _expression(query)
    if node is None:
        return None
    text = _constant(node)
    if text is not None:
        return [text]
    call = node.get("FuncCall") or {}
    names = [(n.get("String") or {}).get("sval") for n in call.get("funcname") or ()]
    args = call.get("args") or []
    if names[-1:] != ["format"] or not args or call.get("agg_star") or call.get("over"):
        return None
    values = bound[1] if bound is not None else ("",)
    out = []
    for value in values:
        parts = [_evaluate(a, bound[0] if bound is not None else None, value) for a in args]
        if any(p is None for p in parts):
            return None
        text = _format(*(p for p in parts if p is not None))
        if text is None:
            return None
        out.append(text)
    return out


def _expression(query: str) -> dict[str, Any] | None:
    """The expression ``query`` holds (``SELECT`` prepended), parsed; None if it does
    not parse or is not one expression."""
    try:
        tree = loads(load_parser().parse_sql_json("SELECT " + query))
    except Exception:
        return None
    stmts = tree.get("stmts") or []
    if len(stmts) != 1:
        return None
    select = (stmts[0].get("stmt") or {}).get("SelectStmt") or {}
    targets = select.get("targetList") or []
    if len(targets) != 1 or select.get("fromClause") or select.get("whereClause"):
        return None
    value = (targets[0].get("ResTarget") or {}).get("val")
    return value if isinstance(value, dict) else None


def _column_ref(node: dict[str, Any] | None) -> str | None:
    fields = ((node or {}).get("ColumnRef") or {}).get("fields") or []
    if len(fields) != 1:
        return None
    name = (fields[0].get("String") or {}).get("sval")
    return name if isinstance(name, str) else None


def _constant(node: Any) -> str | None:
    while isinstance(node, dict) and "TypeCast" in node:
        node = node["TypeCast"].get("arg")
    if not isinstance(node, dict):
        return None
    value = ((node.get("A_Const") or {}).get("sval") or {}).get("sval")
    if isinstance(value, str):
        return value
    return "" if (node.get("A_Const") or {}).get("sval") == {} else None


def _evaluate(node: Any, var: str | None, value: str) -> str | None:
    """A ``format`` argument's text: a constant, the loop variable, or ``||`` of them."""
    while isinstance(node, dict) and "TypeCast" in node:
        node = node["TypeCast"].get("arg")
    if not isinstance(node, dict):
        return None
    text = _constant(node)
    if text is not None:
        return text
    ref = _column_ref(node)
    if ref is not None:
        return value if var is not None and ref == var else None
    expr = node.get("A_Expr") or {}
    op = [(n.get("String") or {}).get("sval") for n in expr.get("name") or ()]
    if expr.get("kind") == "AEXPR_OP" and op == ["||"]:
        left = _evaluate(expr.get("lexpr"), var, value)
        right = _evaluate(expr.get("rexpr"), var, value)
        return left + right if left is not None and right is not None else None
    return None


def _format(template: str, *args: str) -> str | None:
    """PostgreSQL's ``format`` for ``%s``, ``%I`` (always quoted: the same name),
    ``%L`` and ``%%``; None for another specifier or too few arguments."""
    out: list[str] = []
    at = 0
    index = 0
    for spec in _SPEC.finditer(template):
        out.append(template[at:spec.start()])
        at = spec.end()
        kind = spec.group(1)
        if kind == "%":
            out.append("%")
            continue
        if kind not in "sIL" or index >= len(args):
            return None
        arg = args[index]
        index += 1
        out.append(arg if kind == "s" else
                   '"' + arg.replace('"', '""') + '"' if kind == "I" else
                   "'" + arg.replace("'", "''") + "'")
    out.append(template[at:])
    return "".join(out)
