from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.ddl import index_is_new, object_names
from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

_DROP_INDEX = re.compile(r"DROP\s+INDEX\b", re.I)


class RequireConcurrentIndexDeletion(StatementRule):
    """``DROP INDEX`` without ``CONCURRENTLY``.

    Problem: a plain ``DROP INDEX`` takes an ACCESS EXCLUSIVE lock on the index's table:
    reads and writes wait until it is dropped, and everything queued behind it waits
    too.
    Fix: ``DROP INDEX CONCURRENTLY`` waits for running queries instead of blocking new
    ones. It cannot run in a transaction, so the file must also say
    ``-- calctl: no-transaction`` (CAL007); the fix adds both (not for a DROP naming
    several indexes or CASCADE, which CONCURRENTLY does not accept). Quiet when the
    index was created in the same file on a new table (see CAL011).
    """

    code = "CAL012"
    name = "require-concurrent-index-deletion"
    severity = "warning"
    squawk = ("require-concurrent-index-deletion",)
    kinds = frozenset({"DropStmt"})
    example = "DROP INDEX accounts_email;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if node.get("removeType") != "OBJECT_INDEX" or node.get("concurrent"):
            return
        if all(index_is_new(scope, names, stmt) for names in object_names(node)):
            return
        yield self.finding(
            stmt, "DROP INDEX without CONCURRENTLY blocks reads and writes of the table "
                  "until the index is dropped",
            "Use DROP INDEX CONCURRENTLY, in a file marked `-- calctl: no-transaction`.",
            fix=self._fix(stmt, scope), fix_title="Add CONCURRENTLY.")

    @staticmethod
    def _fix(stmt: Statement, scope: FileScope) -> tuple[Edit, ...]:
        node = stmt.node
        head = _DROP_INDEX.match(scope.source.text, stmt.char())
        if (head is None or not scope.source.exact or len(object_names(node)) != 1
                or node.get("behavior") == "DROP_CASCADE"):
            return ()
        edits = [Edit(head.end(), head.end(), " CONCURRENTLY")]
        if scope.transaction:
            edits.insert(0, Edit(0, 0, "-- calctl: no-transaction\n"))
        return tuple(edits)

