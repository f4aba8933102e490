from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import added_constraints
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class DisallowedUniqueConstraint(StatementRule):
    """A ``UNIQUE`` constraint added to an existing table without ``USING INDEX``.

    Problem: adding a UNIQUE constraint (or a column added ``UNIQUE``) builds its
    index under an ACCESS EXCLUSIVE lock: reads and writes wait until it is built.
    Fix: ``CREATE UNIQUE INDEX CONCURRENTLY``, then
    ``ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX …``. Quiet for a table created
    in the same file (see CAL011).
    """

    code = "CAL024"
    name = "disallowed-unique-constraint"
    severity = "warning"
    squawk = ("disallowed-unique-constraint",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        for constraint in added_constraints(stmt):
            if (constraint.get("contype") == "CONSTR_UNIQUE"
                    and not constraint.get("indexname")):
                yield self.finding(
                    stmt, "Adding a UNIQUE constraint builds its index while reads and "
                          "writes wait",
                    "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … UNIQUE USING "
                    "INDEX.", location=constraint.get("location"))
