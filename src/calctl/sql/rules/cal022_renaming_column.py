from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import cmd_locations
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class RenamingColumn(StatementRule):
    """``RENAME COLUMN`` of a table or view that already exists (or an attribute of a type).

    Problem: clients still running the old code read and write the old name and fail
    from the moment the rename commits.
    Fix: add the new column, write both, backfill, move readers, then drop the old one
    (or rename behind a view). Quiet for a table created in the same file (see
    CAL011): nobody reads it yet.
    """

    code = "CAL022"
    name = "renaming-column"
    severity = "warning"
    squawk = ("renaming-column",)
    kinds = frozenset({"RenameStmt"})
    example = "ALTER TABLE accounts RENAME COLUMN mail TO email;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        kind = node.get("renameType")
        if kind not in ("OBJECT_COLUMN", "OBJECT_ATTRIBUTE"):
            return
        if scope.is_new_table(node.get("relation"), stmt):
            return
        what = "column" if kind == "OBJECT_COLUMN" else "attribute"
        yield self.finding(
            stmt, f"Renaming {what} {node.get('subname', '')} breaks clients that still use "
                  "its old name",
            "Add the new column, backfill and switch clients over before dropping the old "
            "one.",
            location=cmd_locations(stmt)[0])
