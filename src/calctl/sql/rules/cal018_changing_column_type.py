from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import COLUMNS, alter_cmds, option_locations
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class ChangingColumnType(StatementRule):
    """``ALTER COLUMN … TYPE`` on an existing table.

    Problem: most type changes rewrite the table and its indexes under an ACCESS
    EXCLUSIVE lock (reads and writes wait), and clients reading the column may break on
    the new type.
    Fix: add a column of the new type, backfill it in batches, switch readers and
    writers over, then drop the old column. (A few changes need no rewrite, e.g.
    ``varchar(n)`` to ``text``; squawk and calctl flag them all.) Quiet for a table
    created in the same file (see CAL011).
    """

    code = "CAL018"
    name = "changing-column-type"
    severity = "warning"
    squawk = ("changing-column-type",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE accounts ALTER COLUMN balance TYPE numeric(12, 2);\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        cmds = alter_cmds(stmt, COLUMNS)
        hits = [i for i, cmd in enumerate(cmds) if cmd.get("subtype") == "AT_AlterColumnType"]
        if not hits or scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        where = option_locations(stmt)
        for i in hits:
            yield self.finding(
                stmt, f"Changing the type of column {cmds[i].get('name', '')} rewrites the "
                      "table under an ACCESS EXCLUSIVE lock and may break its readers",
                "Add a column of the new type, backfill it, switch over, then drop the old "
                "one.", location=where[i])
