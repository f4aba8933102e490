from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import keyword_location
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class BanTruncateCascade(StatementRule):
    """``TRUNCATE … CASCADE``.

    Problem: CASCADE also empties every table with a foreign key to the truncated
    ones, and the tables referencing those, recursively: far more data than the
    statement names can go.
    Fix: truncate the tables you mean by name (without CASCADE, PostgreSQL refuses
    when another table still references them). Fires for new tables too: the tables
    that reference them may not be new.
    """

    code = "CAL029"
    name = "ban-truncate-cascade"
    severity = "warning"
    squawk = ("ban-truncate-cascade",)
    kinds = frozenset({"TruncateStmt"})
    example = "TRUNCATE accounts CASCADE;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if stmt.node.get("behavior") != "DROP_CASCADE":
            return
        yield self.finding(
            stmt, "TRUNCATE … CASCADE also empties every table that references these, "
                  "recursively", "Name every table to truncate and drop CASCADE.",
            location=keyword_location(stmt, ("CASCADE",)))
