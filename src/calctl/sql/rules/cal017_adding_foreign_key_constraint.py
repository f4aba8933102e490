from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import added_constraints
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class AddingForeignKeyConstraint(StatementRule):
    """A foreign key added to an existing table without ``NOT VALID``.

    Problem: adding a foreign key checks every existing row against the referenced
    table while holding SHARE ROW EXCLUSIVE locks on both: writes to either wait until
    the scan ends.
    Fix: ``ADD CONSTRAINT … FOREIGN KEY … NOT VALID``, then ``VALIDATE CONSTRAINT`` in
    a separate transaction (CAL015's fix does both). A column added with
    ``REFERENCES`` cannot be NOT VALID: add the column, then the constraint. Quiet for
    a table created in the same file (see CAL011).
    """

    code = "CAL017"
    name = "adding-foreign-key-constraint"
    severity = "warning"
    squawk = ("adding-foreign-key-constraint",)
    kinds = frozenset({"AlterTableStmt"})
    example = ("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n"
               "    FOREIGN KEY (customer_id) REFERENCES customers (id);\n")

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        for constraint in added_constraints(stmt):
            if (constraint.get("contype") == "CONSTR_FOREIGN"
                    and not constraint.get("skip_validation")):
                yield self.finding(
                    stmt, "Adding a foreign key checks every row while writes to both "
                          "tables wait",
                    "Add it NOT VALID, then VALIDATE CONSTRAINT in a separate "
                    "transaction.", location=constraint.get("location"))
