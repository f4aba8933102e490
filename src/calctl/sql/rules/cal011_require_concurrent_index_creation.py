from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

_INDEX = re.compile(r"CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I)


class RequireConcurrentIndexCreation(StatementRule):
    """``CREATE INDEX`` without ``CONCURRENTLY`` on a table that already exists.

    Problem: a plain ``CREATE INDEX`` takes a SHARE lock: every write to the table
    waits until the whole index is built, minutes on a large table.
    Fix: ``CREATE INDEX CONCURRENTLY`` builds it without blocking writes. It cannot run
    in a transaction, so the file must also say ``-- calctl: no-transaction`` (CAL007);
    the fix adds both. Quiet for a table created in the same file, or (with
    ``--database-url``) by a file the target has not applied yet: nobody writes to it.
    """

    code = "CAL011"
    name = "require-concurrent-index-creation"
    severity = "warning"
    squawk = ("require-concurrent-index-creation",)
    kinds = frozenset({"IndexStmt"})
    example = "CREATE INDEX accounts_email ON accounts (email);\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if node.get("concurrent") or scope.is_new_table(node.get("relation"), stmt):
            return
        yield self.finding(
            stmt, "CREATE INDEX without CONCURRENTLY blocks writes to the table while the "
                  "index is built",
            "Use CREATE INDEX CONCURRENTLY, in a file marked `-- calctl: no-transaction`.",
            fix=self._fix(stmt, scope), fix_title="Add CONCURRENTLY.")

    @staticmethod
    def _fix(stmt: Statement, scope: FileScope) -> tuple[Edit, ...]:
        start = stmt.char()
        head = _INDEX.match(scope.source.text, start)
        if head is None or not scope.source.exact:
            return ()
        edits = [Edit(head.end(), head.end(), " CONCURRENTLY")]
        if scope.transaction:
            edits.insert(0, Edit(0, 0, "-- calctl: no-transaction\n"))
        return tuple(edits)
