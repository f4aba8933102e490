from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class BanAlterDomainWithAddConstraint(StatementRule):
    """``ALTER DOMAIN … ADD CONSTRAINT``.

    Problem: PostgreSQL checks the new constraint against every column of the domain
    in every table, holding locks that block writes to them while it scans; with
    ``NOT VALID`` it still takes them, and existing rows go unchecked.
    Fix: put the constraint on the table's columns instead: ``ALTER TABLE … ADD
    CONSTRAINT … NOT VALID``, then ``VALIDATE CONSTRAINT`` without blocking writes.
    Fires with or without ``NOT VALID``, as squawk does; quiet for the other ``ALTER
    DOMAIN`` actions (``SET NOT NULL`` is a check of its own, not this rule's).
    Any PostgreSQL version.
    """

    code = "CAL048"
    name = "ban-alter-domain-with-add-constraint"
    severity = "warning"
    squawk = ("ban-alter-domain-with-add-constraint",)
    kinds = frozenset({"AlterDomainStmt"})
    example = "ALTER DOMAIN email_address ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%');\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if stmt.node.get("subtype") != "C":
            return
        location = ((stmt.node.get("def") or {}).get("Constraint") or {}).get("location")
        yield self.finding(
            stmt, "ALTER DOMAIN … ADD CONSTRAINT checks every column of the domain in every "
                  "table while blocking writes to them",
            "Add the constraint to the table's columns with NOT VALID, then VALIDATE it.",
            location=location)
