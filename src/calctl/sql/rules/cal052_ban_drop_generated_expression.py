from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import alter_cmds, option_locations
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class BanDropGeneratedExpression(StatementRule):
    """``ALTER COLUMN … DROP EXPRESSION`` on an existing table.

    Problem: the column stops being computed: clients that rely on PostgreSQL filling
    it in now leave it NULL or stale, and nothing fails to tell them.
    Fix: have the clients write the value themselves first, then silence the statement
    with ``-- calctl: ignore CAL052``. Quiet for a table created in the same file (see
    CAL011).
    """

    code = "CAL052"
    name = "ban-drop-generated-expression"
    severity = "warning"
    squawk = ("ban-drop-generated-expression",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE accounts ALTER COLUMN email_lower DROP EXPRESSION;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        cmds = alter_cmds(stmt)
        hits = [i for i, cmd in enumerate(cmds) if cmd.get("subtype") == "AT_DropExpression"]
        if not hits or scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        where = option_locations(stmt)
        for i in hits:
            yield self.finding(
                stmt, f"Dropping the generated expression of {cmds[i].get('name', '')} "
                      "leaves clients that rely on it with NULL or stale values",
                "Make the clients write the value first, then silence this statement.",
                location=where[i])
