from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import COLUMNS, alter_cmds, keyword_location, option_locations
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class BanDropNotNull(StatementRule):
    """``ALTER COLUMN … DROP NOT NULL`` on an existing table (or ``ALTER DOMAIN``).

    Problem: clients that read the column may assume it is never NULL and break on the
    first NULL written after the change.
    Fix: make sure every reader handles NULL first; then silence this statement with
    ``-- calctl: ignore CAL027`` (or ``-- squawk-ignore ban-drop-not-null``). Quiet
    for a table created in the same file (see CAL011).
    """

    code = "CAL027"
    name = "ban-drop-not-null"
    severity = "warning"
    squawk = ("ban-drop-not-null",)
    kinds = frozenset({"AlterTableStmt", "AlterDomainStmt"})
    example = "ALTER TABLE accounts ALTER COLUMN email DROP NOT NULL;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        if stmt.kind == "AlterDomainStmt":
            if stmt.node.get("subtype") == "N":
                yield self.finding(
                    stmt, "Dropping NOT NULL from a domain may break clients that expect a "
                          "value", "Check that every reader handles NULL, then silence this "
                                   "statement.",
                    location=keyword_location(stmt, ("DROP", "NOT", "NULL_P")))
            return
        cmds = alter_cmds(stmt, COLUMNS)
        hits = [i for i, cmd in enumerate(cmds) if cmd.get("subtype") == "AT_DropNotNull"]
        if not hits or scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        where = option_locations(stmt)
        for i in hits:
            yield self.finding(
                stmt, f"Dropping NOT NULL from {cmds[i].get('name', '')} may break clients "
                      "that expect a value", "Check that every reader handles NULL, then "
                                            "silence this statement.", location=where[i])
