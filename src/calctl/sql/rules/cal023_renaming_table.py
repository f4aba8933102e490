from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import cmd_locations
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class RenamingTable(StatementRule):
    """``ALTER TABLE … RENAME TO`` of a table that already exists.

    Problem: clients still running the old code use the old name and fail from the
    moment the rename commits.
    Fix: rename, then create a view with the old name until every client moved (or
    the reverse). Quiet for a table created in the same file (see CAL011). Views,
    indexes and other objects are squawk's renaming-object, not this rule.
    """

    code = "CAL023"
    name = "renaming-table"
    severity = "warning"
    squawk = ("renaming-table",)
    kinds = frozenset({"RenameStmt"})
    example = "ALTER TABLE account RENAME TO accounts;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if node.get("renameType") != "OBJECT_TABLE":
            return
        if scope.is_new_table(node.get("relation"), stmt):
            return
        name = (node.get("relation") or {}).get("relname", "")
        yield self.finding(
            stmt, f"Renaming table {name} breaks clients that still use its old name",
            "Keep the old name reachable (a view) until every client uses the new one.",
            location=cmd_locations(stmt)[0])
