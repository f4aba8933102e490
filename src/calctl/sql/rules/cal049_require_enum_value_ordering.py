from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.rules.textpos import line_column, search
from calctl.sql.statements import Statement

_ADD_VALUE = re.compile(r"(?i:\bADD\s+VALUE\b)")


class RequireEnumValueOrdering(StatementRule):
    """``ALTER TYPE … ADD VALUE`` without ``BEFORE`` or ``AFTER``.

    Problem: the value goes to the end of the enum, and an enum's values sort in
    their declared order: ``ORDER BY``, comparisons and ranges on the column follow
    it, so a value appended where it does not belong changes results quietly.
    Fix: say where it goes, ``ADD VALUE 'paused' BEFORE 'closed'`` (or ``AFTER``);
    when the end is right, ``AFTER`` the current last value says so. Fires with or
    without ``IF NOT EXISTS``, as squawk does; quiet for ``RENAME VALUE``. Any
    PostgreSQL version (``ADD VALUE`` needs 9.1; inside a transaction, 12).
    """

    code = "CAL049"
    name = "require-enum-value-ordering"
    severity = "warning"
    squawk = ("require-enum-value-ordering",)
    kinds = frozenset({"AlterEnumStmt"})
    example = "ALTER TYPE account_status ADD VALUE 'paused';\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if not node.get("newVal") or node.get("oldVal") or node.get("newValNeighbor"):
            return
        message = (f"ADD VALUE '{node['newVal']}' without BEFORE or AFTER appends it to the "
                   "end of the enum's sort order")
        hint = "Say where the value sorts: ADD VALUE … BEFORE 'x' or AFTER 'y'."
        found = search(stmt, scope, _ADD_VALUE)  # the tree has no position for it
        if found is None:
            yield self.finding(stmt, message, hint)
        else:
            yield Finding(*line_column(scope.source.text, found.start()), message, hint)
