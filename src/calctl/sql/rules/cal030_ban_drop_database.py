from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class BanDropDatabase(StatementRule):
    """``DROP DATABASE`` in a migration.

    Problem: every table of the database and every client connected to it is gone;
    a migration of one database has no business dropping one (it cannot run inside
    a transaction either: CAL007).
    Fix: drop databases by hand, outside the migration history. Fires with or without
    ``IF EXISTS``, as squawk does. Any PostgreSQL version.
    """

    code = "CAL030"
    name = "ban-drop-database"
    severity = "warning"
    squawk = ("ban-drop-database",)
    kinds = frozenset({"DropdbStmt"})
    example = "DROP DATABASE analytics;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        yield self.finding(
            stmt, f"DROP DATABASE {stmt.node.get('dbname', '')} drops every table of it and "
                  "disconnects its clients",
            "Drop a database by hand, not in a migration.")
