from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.rules.textpos import alter_actions, line_column, search
from calctl.sql.statements import Statement

_DROP = re.compile(r"(?i:\bDROP\s+CONSTRAINT\b)")


class BanDropConstraint(StatementRule):
    """``ALTER TABLE … DROP CONSTRAINT`` (or ``ALTER DOMAIN … DROP CONSTRAINT``).

    Problem: the clients and the queries the planner optimises rely on what the constraint
    guaranteed (a unique key, a foreign key, a check); once dropped, data that breaks the
    guarantee can be written.
    Fix: make sure nothing relies on it any more, then acknowledge the statement with ``--
    calctl: ignore CAL036``. Fires with or without ``IF EXISTS``, on tables, foreign tables
    and domains, as squawk does (a constraint dropped and added again under the same name is
    still a drop). Any PostgreSQL version.
    """

    code = "CAL036"
    name = "ban-drop-constraint"
    severity = "warning"
    squawk = ("ban-drop-constraint",)
    kinds = frozenset({"AlterTableStmt", "AlterDomainStmt"})
    example = "ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if stmt.kind == "AlterDomainStmt":
            if node.get("subtype") == "X":
                found = search(stmt, scope, _DROP)
                at = None if found is None else found.start()
                yield self._finding(stmt, scope, str(node.get("name", "")), at)
            return
        starts: list[int] | None = None  # where each action starts, found when needed
        for index, item in enumerate(node.get("cmds") or ()):
            cmd = item.get("AlterTableCmd") or {}
            if cmd.get("subtype") != "AT_DropConstraint":
                continue
            if starts is None:
                starts = alter_actions(stmt, scope) or []
            at = starts[index] if index < len(starts) else None
            yield self._finding(stmt, scope, str(cmd.get("name", "")), at)

    def _finding(self, stmt: Statement, scope: FileScope, name: str,
                 at: int | None) -> Finding:
        line, column = stmt.pos() if at is None else line_column(scope.source.text, at)
        return Finding(line, column, f"DROP CONSTRAINT {name} removes a guarantee clients and "
                                     "queries may rely on",
                       "Drop it once nothing relies on it, then silence this with "
                       "`-- calctl: ignore CAL036`.")
