from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.rules.textpos import line_column, quoted_name, search
from calctl.sql.statements import Statement


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
            dropped = [node.get("name", "")] if node.get("subtype") == "X" else []
        else:
            dropped = [cmd.get("name", "") for item in node.get("cmds") or ()
                       if (cmd := item.get("AlterTableCmd") or {}).get("subtype")
                       == "AT_DropConstraint"]
        for name in dropped:
            found = search(stmt, scope, re.compile(
                r"(?i:\bDROP\s+CONSTRAINT\s+(?:IF\s+EXISTS\s+)?)" + quoted_name(name)))
            message = (f"DROP CONSTRAINT {name} removes a guarantee clients and queries may "
                       "rely on")
            hint = "Drop it once nothing relies on it, then silence this with " \
                   "`-- calctl: ignore CAL036`."
            if found is None:
                yield self.finding(stmt, message, hint)
            else:
                line, column = line_column(scope.source.text, found.start())
                yield Finding(line, column, message, hint)
