from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class BanCreateDomainWithConstraint(StatementRule):
    """``CREATE DOMAIN`` with a constraint (``CHECK``, ``NOT NULL``, ``DEFAULT``…).

    Problem: a domain's constraint is checked against every column of the domain in
    every table: changing it later (``ALTER DOMAIN … ADD CONSTRAINT``) scans them all
    under locks, and it cannot be done without blocking as a table constraint can
    (``NOT VALID`` then ``VALIDATE``). squawk counts any clause after the type,
    ``DEFAULT`` included; so does calctl.
    Fix: a domain without constraints (or no domain), and the constraint on the
    table's columns. Quiet for ``CREATE DOMAIN … AS type`` alone (``COLLATE`` is no
    constraint). Any PostgreSQL version.
    """

    code = "CAL047"
    name = "ban-create-domain-with-constraint"
    severity = "warning"
    squawk = ("ban-create-domain-with-constraint",)
    kinds = frozenset({"CreateDomainStmt"})
    example = "CREATE DOMAIN email_address AS text CHECK (VALUE LIKE '%@%');\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        constraints = stmt.node.get("constraints") or ()
        if not constraints:
            return
        first = (constraints[0].get("Constraint") or {}).get("location")
        yield self.finding(
            stmt, "a domain with a constraint cannot have it changed later without scanning "
                  "every column of the domain under locks",
            "Put the constraint on the table's columns (ADD CONSTRAINT … NOT VALID, then "
            "VALIDATE, changes it without blocking).", location=first)
