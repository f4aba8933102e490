from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from calctl.sql.rules.ddl import added_constraint, alter_cmds, option_locations
from calctl.sql.rules.statement import FileScope, Finding, StatementRule

_ALL = "*"


class AddingNotNullableField(StatementRule):
    """``ALTER COLUMN … SET NOT NULL`` without a validated ``CHECK`` to rely on.

    Problem: SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock: reads
    and writes wait until every row is checked.
    Fix: from PostgreSQL 12, add ``CHECK (col IS NOT NULL) NOT VALID``, ``VALIDATE``
    it (a lock that lets reads and writes go on), then SET NOT NULL: PostgreSQL uses
    the valid CHECK and skips the scan; the CHECK can be dropped afterwards. As
    squawk, calctl is quiet when a ``VALIDATE CONSTRAINT`` on the same table came first
    in the file — for the columns that constraint tests ``IS NOT NULL`` when the file
    adds it, for any column otherwise — and on PostgreSQL 11 and earlier
    (``--pg-version``) always fires. Quiet for a table created in the same file (see
    CAL011).
    """

    code = "CAL019"
    name = "adding-not-nullable-field"
    severity = "warning"
    squawk = ("adding-not-nullable-field",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        checks: dict[str, set[str]] = {}     # constraint → columns it tests IS NOT NULL
        covered: dict[str, set[str]] = {}    # table name → columns validated (or *)
        modern = scope.version_at_least(12)
        for stmt in scope.statements:
            if stmt.kind != "AlterTableStmt":
                continue
            table = str((stmt.node.get("relation") or {}).get("relname", ""))
            new = scope.is_new_table(stmt.node.get("relation"), stmt)
            where: list[int | None] | None = None
            for i, cmd in enumerate(alter_cmds(stmt)):
                subtype = cmd.get("subtype")
                constraint = added_constraint(cmd)
                if constraint is not None and constraint.get("conname"):
                    checks[str(constraint["conname"])] = _not_null_columns(
                        constraint.get("raw_expr") or {})
                elif subtype == "AT_ValidateConstraint":
                    columns = checks.get(str(cmd.get("name", ""))) or {_ALL}
                    covered.setdefault(table, set()).update(columns)
                elif subtype == "AT_SetNotNull" and not new:
                    done = covered.get(table, set())
                    if modern and (_ALL in done or cmd.get("name") in done):
                        continue
                    where = where if where is not None else option_locations(stmt)
                    yield self.finding(
                        stmt, f"SET NOT NULL on {cmd.get('name', '')} scans the table while "
                              "reads and writes wait",
                        "Add CHECK (column IS NOT NULL) NOT VALID, VALIDATE it, then SET NOT "
                        "NULL (PostgreSQL 12+).", location=where[i])


def _not_null_columns(expr: dict[str, Any]) -> set[str]:
    """The columns an expression tests ``IS NOT NULL`` anywhere in it."""
    found: set[str] = set()
    stack: list[Any] = [expr]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            test = item.get("NullTest")
            if isinstance(test, dict) and test.get("nulltesttype") == "IS_NOT_NULL":
                fields = ((test.get("arg") or {}).get("ColumnRef") or {}).get("fields") or ()
                if fields:
                    found.add(str(fields[-1].get("String", {}).get("sval", "")))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found
