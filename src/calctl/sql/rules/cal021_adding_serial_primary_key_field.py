from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import added_constraints
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class AddingSerialPrimaryKeyField(StatementRule):
    """A primary key added to an existing table without ``USING INDEX``.

    Problem: ``ADD PRIMARY KEY`` (or a column added ``PRIMARY KEY``, often a serial)
    builds its unique index under an ACCESS EXCLUSIVE lock: reads and writes wait until
    the index is built.
    Fix: ``CREATE UNIQUE INDEX CONCURRENTLY``, then
    ``ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …``. Quiet for a table
    created in the same file (see CAL011).
    """

    code = "CAL021"
    name = "adding-serial-primary-key-field"
    severity = "warning"
    squawk = ("adding-serial-primary-key-field",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE events ADD COLUMN id bigserial PRIMARY KEY;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        for constraint in added_constraints(stmt):
            if (constraint.get("contype") == "CONSTR_PRIMARY"
                    and not constraint.get("indexname")):
                yield self.finding(
                    stmt, "Adding a primary key builds its index while reads and writes "
                          "wait",
                    "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … PRIMARY KEY "
                    "USING INDEX.", location=constraint.get("location"))
