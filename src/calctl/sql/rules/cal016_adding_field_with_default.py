from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from calctl.sql.rules.ddl import alter_cmds, column_constraints
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

# pg_catalog functions callable without arguments that are not volatile (from
# PostgreSQL 18's pg_proc), the only calls squawk lets a new column's default make
_STABLE_CALLS = frozenset({
    "count", "cume_dist", "current_database", "current_schema", "current_user",
    "datemultirange", "dense_rank", "get_current_ts_config", "getdatabaseencoding",
    "getpgusername", "icu_unicode_version", "inet_client_addr", "inet_client_port",
    "inet_server_addr", "inet_server_port", "int4multirange", "int8multirange",
    "json_build_array", "json_build_object", "jsonb_build_array", "jsonb_build_object",
    "make_interval", "now", "nummultirange", "percent_rank", "pg_backend_pid",
    "pg_client_encoding", "pg_conf_load_time", "pg_current_snapshot", "pg_current_xact_id",
    "pg_current_xact_id_if_assigned", "pg_my_temp_schema", "pg_postmaster_start_time",
    "pg_trigger_depth", "pi", "rank", "row_number", "session_user", "statement_timestamp",
    "system_user", "transaction_timestamp", "tsmultirange", "tstzmultirange",
    "txid_current", "txid_current_if_assigned", "txid_current_snapshot", "unicode_version",
    "version",
})

# binary operators (``a + b``, ``a IS DISTINCT FROM b``): constant when both sides are
_BINARY = frozenset({"AEXPR_OP", "AEXPR_DISTINCT", "AEXPR_NOT_DISTINCT"})


class AddingFieldWithDefault(StatementRule):
    """``ADD COLUMN`` whose default or generated value rewrites the table.

    Problem: from PostgreSQL 11 a constant default is stored once, but a volatile
    default (``gen_random_uuid()``, ``clock_timestamp()``…) and a generated column
    (``GENERATED … STORED``, identity) still rewrite every row under an ACCESS
    EXCLUSIVE lock; before 11 (``--pg-version=10``) every default does.
    Fix: add the column without the default, set the default in a second statement
    (new rows only), backfill existing rows in batches, then add NOT NULL if needed.
    As squawk, calctl counts as constant a literal, a cast of one, operators over
    constants, ``CURRENT_TIMESTAMP`` and a call without arguments of a non-volatile
    built-in function (``now()``). Quiet for a table created in the same file (see
    CAL011).
    """

    code = "CAL016"
    name = "adding-field-with-default"
    severity = "warning"
    squawk = ("adding-field-with-default",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE accounts ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        modern = scope.version_at_least(11)
        for cmd in alter_cmds(stmt):
            if cmd.get("subtype") != "AT_AddColumn":
                continue
            for constraint in column_constraints(cmd):
                kind = constraint.get("contype")
                if kind in ("CONSTR_GENERATED", "CONSTR_IDENTITY"):
                    yield self._hit(stmt, constraint.get("location"), "A generated column")
                elif kind == "CONSTR_DEFAULT":
                    expr = constraint.get("raw_expr") or {}
                    if modern and _constant(expr, stmt):
                        continue
                    yield self._hit(stmt, _location(expr, constraint, stmt),
                                    "A column with this default" if modern
                                    else "A column with a default (before PostgreSQL 11)")

    def _hit(self, stmt: Statement, location: int | None, what: str) -> Finding:
        return self.finding(
            stmt, f"{what} rewrites the whole table under an ACCESS EXCLUSIVE lock",
            "Add the column without it, SET DEFAULT in another statement and backfill the "
            "existing rows in batches.", location=location)


def _location(expr: dict[str, Any], constraint: dict[str, Any], stmt: Statement,
              ) -> int | None:
    """Where the default expression starts (its leftmost token, or the parenthesis
    around it), where squawk points."""
    locations = [at for at in _locations(expr) if at >= 0]
    if not locations:
        location = constraint.get("location")
        return location if isinstance(location, int) else None
    at = min(locations)
    data = stmt.source.data
    lower = stmt.start - stmt.base
    i = at - 1
    while i >= lower and data[stmt.base + i:stmt.base + i + 1] in (b" ", b"\t", b"\n", b"\r"):
        i -= 1
    return i if i >= lower and data[stmt.base + i:stmt.base + i + 1] == b"(" else at


def _constant(expr: dict[str, Any], stmt: Statement, top: bool = True) -> bool:
    """Whether squawk reads the default as constant (see the class docstring)."""
    if len(expr) != 1:
        return False
    kind, node = next(iter(expr.items()))
    if top and _parenthesized(expr, stmt):
        return False     # squawk reads "(10)" as an expression, not a literal
    if kind == "A_Const":
        # pglast folds "-1" into a constant; squawk reads a prefix operator
        return not _text_at(stmt, node.get("location", -1)).startswith("-")
    if kind in ("TypeCast", "CollateClause"):
        return _constant(node.get("arg") or {}, stmt)
    if kind == "A_Expr":
        return bool(node.get("kind") in _BINARY and "lexpr" in node and "rexpr" in node
                    and _constant(node["lexpr"], stmt) and _constant(node["rexpr"], stmt))
    if kind == "BoolExpr":
        return bool(node.get("boolop") != "NOT_EXPR") and all(
            _constant(arg, stmt) for arg in node.get("args") or ())
    if kind == "NullTest":
        return _constant(node.get("arg") or {}, stmt)
    if kind == "A_ArrayExpr":
        return all(_constant(e, stmt, top=False) for e in node.get("elements") or ())
    if kind == "SQLValueFunction":
        return bool(node.get("op") == "SVFOP_CURRENT_TIMESTAMP" and node.get("typmod", -1) < 0)
    if kind == "FuncCall":
        names: list[Any] = node.get("funcname") or []
        return bool(len(names) == 1 and not node.get("args")
                    and str(names[0].get("String", {}).get("sval", "")).lower()
                    in _STABLE_CALLS)
    return False


def _text_at(stmt: Statement, location: int) -> str:
    if location < 0:
        return ""
    at = stmt.base + location
    return stmt.source.data[at:at + 1].decode("utf-8", errors="ignore")


def _parenthesized(expr: dict[str, Any], stmt: Statement) -> bool:
    """Whether the expression is written in parentheses (``(1 + 1)``, ``(10)::int``): the
    character before its leftmost token is ``(``, and not the one of ``CAST(``."""
    locations = [at for at in _locations(expr) if at >= 0]
    if not locations:
        return False
    before = stmt.source.data[stmt.start:stmt.base + min(locations)].rstrip()
    return before.endswith(b"(") and not before[:-1].rstrip().upper().endswith(b"CAST")


def _locations(item: Any) -> Iterator[int]:
    if isinstance(item, dict):
        for key, value in item.items():
            if key == "location" and isinstance(value, int):
                yield value
            else:
                yield from _locations(value)
    elif isinstance(item, list):
        for value in item:
            yield from _locations(value)
