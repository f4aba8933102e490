from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import alter_cmds, cmd_locations, column_constraints
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

_FILLED = frozenset({"CONSTR_DEFAULT", "CONSTR_GENERATED", "CONSTR_IDENTITY"})


class AddingRequiredField(StatementRule):
    """``ADD COLUMN … NOT NULL`` without a default.

    Problem: the existing rows have no value for the new column, so PostgreSQL rejects
    the statement on any table that has rows: the migration fails in production after
    passing on an empty development database.
    Fix: give the column a default (constant defaults are cheap from PostgreSQL 11),
    or add it nullable, backfill, then add NOT NULL. Quiet for a table created in the
    same file (see CAL011).
    """

    code = "CAL020"
    name = "adding-required-field"
    severity = "warning"
    squawk = ("adding-required-field",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE accounts ADD COLUMN region text NOT NULL;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        where: list[int | None] | None = None
        for i, cmd in enumerate(alter_cmds(stmt)):
            if cmd.get("subtype") != "AT_AddColumn":
                continue
            kinds = {c.get("contype") for c in column_constraints(cmd)}
            if "CONSTR_NOTNULL" in kinds and not kinds & _FILLED:
                where = where if where is not None else cmd_locations(stmt)
                yield self.finding(
                    stmt, "A NOT NULL column without a default fails on a table that has "
                          "rows", "Give it a DEFAULT, or add it nullable, backfill, then add "
                                  "NOT NULL.", location=where[i])
