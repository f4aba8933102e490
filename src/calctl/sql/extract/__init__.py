"""Per-file extraction: what each statement creates, alters, drops, renames and references,
and what it shows that rules may care about (observations).

PostgreSQL text is parsed by pglast's JSON parse tree (``parse_sql_json``: the real
PostgreSQL parser, without building Python AST objects). PL/pgSQL bodies of functions
and DO blocks go through ``parse_plpgsql_json`` and the SQL inside them is parsed again.

One module per statement family, each a class over the one before it (see
:mod:`calctl.sql.extract.core`); a statement node ``X`` is handled by the family method
``st_X``, found through :data:`~calctl.sql.extract.core.HANDLERS` (one dict lookup, as
fast as a method table gets). A new statement type: one ``st_`` method in its family.
"""

from __future__ import annotations

from collections.abc import Callable

from calctl.sql.extract.core import HANDLERS, WALKERS, Lines, Node, Scope, load_parser, loads
from calctl.sql.extract.session import Session


class Extractor(Session):
    """Walks the parse trees of one file and collects facts and observations."""


def _select(ext: Extractor, st: Node, scope: Scope | None, outputs: frozenset[str]) -> None:
    ext.select(st, scope)


def _relation(ext: Extractor, rv: Node, scope: Scope | None, outputs: frozenset[str]) -> None:
    ext.ref_relation(rv)


def _type(ext: Extractor, tn: Node, scope: Scope | None, outputs: frozenset[str]) -> None:
    ext.ref_type(tn)


def _subselect(ext: Extractor, sub: Node, scope: Scope | None, outputs: frozenset[str]) -> None:
    ext.walk(sub.get("subquery"), scope)


def _dml(kind: str) -> Callable[[Extractor, Node, Scope | None, frozenset[str]], None]:
    def walker(ext: Extractor, st: Node, scope: Scope | None, outputs: frozenset[str]) -> None:
        ext.dml(kind, st, scope)

    return walker


WALKERS.update({
    "String": None, "A_Const": None, "Integer": None, "Float": None, "Boolean": None,
    "BitString": None, "A_Star": None, "ParamRef": None, "SQLValueFunction": None,
    "ColumnRef": Extractor.column_ref,
    "FuncCall": Extractor.func_call,
    "SelectStmt": _select,
    "RangeVar": _relation,
    "TypeCast": Extractor.type_cast,
    "ResTarget": Extractor.res_target,
    "A_Expr": Extractor.a_expr,
    "TypeName": _type,
    "RangeSubselect": _subselect,
    "InsertStmt": _dml("InsertStmt"),
    "UpdateStmt": _dml("UpdateStmt"),
    "DeleteStmt": _dml("DeleteStmt"),
    "MergeStmt": _dml("MergeStmt"),
})

HANDLERS.update({
    name[3:]: getattr(Extractor, name) for name in dir(Extractor) if name.startswith("st_")
})

__all__ = ["HANDLERS", "Extractor", "Lines", "load_parser", "loads"]
