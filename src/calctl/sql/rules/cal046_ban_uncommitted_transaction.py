from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.rules.transaction_control import left_open


class BanUncommittedTransaction(StatementRule):
    """A ``BEGIN`` the file never ends with ``COMMIT`` or ``ROLLBACK``.

    Problem: run by psql or any tool that sends the file as it is, the transaction
    stays open and everything after ``BEGIN`` is rolled back when the session ends.
    calctl itself drops a leading ``BEGIN`` and commits the file's transaction, so
    the file works under calctl only: most likely a forgotten ``COMMIT``.
    Fix: end the file with ``COMMIT`` — or drop the ``BEGIN``: calctl runs each file in
    one transaction anyway. Quiet when every ``BEGIN`` is ended. A ``BEGIN`` later
    in the file is also refused by ``migrate apply`` (reported here, not as CAL045).
    Any PostgreSQL version.
    """

    code = "CAL046"
    name = "ban-uncommitted-transaction"
    severity = "warning"
    squawk = ("ban-uncommitted-transaction",)
    kinds = frozenset({"TransactionStmt"})
    example = "BEGIN;\nCREATE TABLE accounts (id bigint PRIMARY KEY);\n"

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        opened = left_open(scope.statements)
        if opened is not None:
            yield self.finding(opened, "BEGIN without a COMMIT or ROLLBACK leaves the "
                                       "transaction open where the file runs as written",
                               "End the file with COMMIT, or drop the BEGIN (calctl runs "
                               "each file in one transaction).")
