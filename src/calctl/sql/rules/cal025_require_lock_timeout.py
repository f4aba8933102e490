from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import (
    added_constraint,
    alter_cmds,
    column_constraints,
    possibly_slow,
)
from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.statements import Statement


class RequireLockTimeout(StatementRule):
    """A file whose DDL runs without ``SET lock_timeout`` first.

    Problem: a DDL statement waiting for its lock (behind a long query) makes every
    later query on the table queue behind it: a short wait becomes an outage.
    Fix: ``SET lock_timeout = '5s';`` before the first DDL statement (the fix adds it
    at the top), so the migration fails fast and can be retried. Reported once per
    file, at the first statement that takes a lock (any DDL but a CREATE TABLE without
    foreign keys; not DML, SET, GRANT), as squawk does; calctl also passes over
    statements that lock only a table created in the same file (see CAL011). ``calctl migrate
    apply`` sets a lock_timeout itself (``[migrate] ddl_lock_timeout``): a team that
    applies only with calctl can ignore this rule in ``[migrate.lint]``.
    """

    code = "CAL025"
    name = "require-lock-timeout"
    severity = "warning"
    squawk = ("require-lock-timeout",)
    example = "ALTER TABLE accounts ADD COLUMN note text;\n"
    parameter = "lock_timeout"
    setting = "SET lock_timeout = '5s';\n"
    risk = "may wait for a lock"

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        stmt = first_unguarded(scope, self.parameter)
        if stmt is None:
            return
        fix = (Edit(scope.statements[0].char(), scope.statements[0].char(), self.setting),
               ) if scope.source.exact else ()
        yield self.finding(
            stmt, f"No SET {self.parameter} before this statement, which {self.risk}",
            self.hint(), fix=fix, fix_title=f"Add `{self.setting.strip()}` at the top.")

    def hint(self) -> str:
        return ("Add SET lock_timeout = '5s'; at the top of the file. `calctl migrate "
                "apply` sets one itself: a team applying only with calctl can ignore "
                "CAL025 in [migrate.lint].")


def first_unguarded(scope: FileScope, parameter: str) -> Statement | None:
    """The first statement that may wait on a lock with no ``SET parameter`` before it."""
    for stmt in scope.statements:
        if scope.set_before(parameter, stmt):
            return None
        if possibly_slow(stmt) and not _on_new_table(stmt, scope):
            return stmt
    return None


def _on_new_table(stmt: Statement, scope: FileScope) -> bool:
    """Whether the statement only locks a table created earlier in the file (a foreign
    key also locks the table it references: that one may be busy)."""
    relation = stmt.node.get("relation")
    if not isinstance(relation, dict) or not scope.is_new_table(relation, stmt):
        return False
    return stmt.kind != "AlterTableStmt" or not any(
        c.get("contype") == "CONSTR_FOREIGN"
        for cmd in alter_cmds(stmt)
        for c in (added_constraint(cmd) or {}, *column_constraints(cmd)))
