from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import alter_cmds, cmd_locations, end_char
from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class RequireConcurrentPartitionDetach(StatementRule):
    """``ALTER TABLE … DETACH PARTITION`` without ``CONCURRENTLY``.

    Problem: a plain detach takes an ACCESS EXCLUSIVE lock on the partitioned table:
    every read and write of any partition waits until it is done.
    Fix: ``DETACH PARTITION … CONCURRENTLY`` (PostgreSQL 14 and later) takes only a
    SHARE UPDATE EXCLUSIVE lock. It cannot run in a transaction, so the file must also
    say ``-- calctl: no-transaction`` (CAL007); the fix adds both, for an ALTER TABLE
    that only detaches, when the target's version (``--pg-version``) has it. Quiet for
    a partitioned table created in the same file (see CAL011), and for ``FINALIZE``.
    """

    code = "CAL014"
    name = "require-concurrent-partition-detach"
    severity = "warning"
    squawk = ("require-concurrent-partition-detach",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE events DETACH PARTITION events_2020;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        cmds = alter_cmds(stmt)
        hits = [i for i, cmd in enumerate(cmds) if cmd.get("subtype") == "AT_DetachPartition"
                and not ((cmd.get("def") or {}).get("PartitionCmd") or {}).get("concurrent")]
        if not hits or scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        where = cmd_locations(stmt)
        for i in hits:
            yield self.finding(
                stmt, "DETACH PARTITION without CONCURRENTLY blocks reads and writes of "
                      "the partitioned table until it is done",
                "Use DETACH PARTITION … CONCURRENTLY (PostgreSQL 14+), in a file marked "
                "`-- calctl: no-transaction`.",
                location=where[i], fix=self._fix(stmt, scope, len(cmds)),
                fix_title="Add CONCURRENTLY.")

    @staticmethod
    def _fix(stmt: Statement, scope: FileScope, count: int) -> tuple[Edit, ...]:
        if count != 1 or not scope.source.exact or not scope.version_at_least(14):
            return ()
        end = end_char(stmt)
        if end is None:
            return ()
        edits = [Edit(end, end, " CONCURRENTLY")]
        if scope.transaction:
            edits.insert(0, Edit(0, 0, "-- calctl: no-transaction\n"))
        return tuple(edits)
