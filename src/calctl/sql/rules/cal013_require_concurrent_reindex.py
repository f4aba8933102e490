from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.ddl import index_is_new
from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

_HEAD = re.compile(r"REINDEX\s*(?:\([^)]*\)\s*)?(?:INDEX|TABLE|SCHEMA|DATABASE)\b", re.I)


class RequireConcurrentReindex(StatementRule):
    """``REINDEX`` without ``CONCURRENTLY``.

    Problem: a plain ``REINDEX`` of an index, table, schema or database locks each table
    against writes and each index against reads while it rebuilds, minutes on a large
    table.
    Fix: ``REINDEX … CONCURRENTLY`` (PostgreSQL 12 and later) rebuilds without blocking.
    It cannot run in a transaction, so the file must also say
    ``-- calctl: no-transaction`` (CAL007); the fix adds both, when the target's version
    (``--pg-version``) has it. ``REINDEX SYSTEM`` has no concurrent form and is not
    flagged; neither is a table created in the same file, or an index created in it
    on such a table (see CAL011).
    """

    code = "CAL013"
    name = "require-concurrent-reindex"
    severity = "warning"
    squawk = ("require-concurrent-reindex",)
    kinds = frozenset({"ReindexStmt"})
    example = "REINDEX TABLE accounts;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        kind = node.get("kind")
        params = {(p.get("DefElem") or {}).get("defname") for p in node.get("params") or ()}
        if kind == "REINDEX_OBJECT_SYSTEM" or "concurrently" in params:
            return
        relation = node.get("relation")
        if kind == "REINDEX_OBJECT_TABLE" and scope.is_new_table(relation, stmt):
            return
        if kind == "REINDEX_OBJECT_INDEX" and relation and index_is_new(
                scope, tuple(x for x in (relation.get("schemaname"), relation.get("relname"))
                             if x), stmt):
            return
        yield self.finding(
            stmt, "REINDEX without CONCURRENTLY blocks writes to the table, and reads "
                  "through its indexes, while they are rebuilt",
            "Use REINDEX … CONCURRENTLY (PostgreSQL 12+), in a file marked "
            "`-- calctl: no-transaction`.",
            fix=self._fix(stmt, scope), fix_title="Add CONCURRENTLY.")

    @staticmethod
    def _fix(stmt: Statement, scope: FileScope) -> tuple[Edit, ...]:
        head = _HEAD.match(scope.source.text, stmt.char())
        if head is None or not scope.source.exact or not scope.version_at_least(12):
            return ()
        edits = [Edit(head.end(), head.end(), " CONCURRENTLY")]
        if scope.transaction:
            edits.insert(0, Edit(0, 0, "-- calctl: no-transaction\n"))
        return tuple(edits)
