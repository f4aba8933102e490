from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.rules.transaction_control import CLOSES, OPENS, control, left_open

_WORDS = {
    "TRANS_STMT_BEGIN": "BEGIN", "TRANS_STMT_START": "START TRANSACTION",
    "TRANS_STMT_COMMIT": "COMMIT", "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT", "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION", "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}


class TransactionNesting(StatementRule):
    """Transaction control other than a leading ``BEGIN`` and a trailing ``COMMIT``.

    Problem: calctl runs each file in a transaction of its own: it drops a leading
    ``BEGIN`` and a trailing ``COMMIT``, and ``migrate apply`` refuses a file with any
    other transaction control (a ``COMMIT`` in the middle would commit half the file,
    a ``ROLLBACK`` or savepoint would undo part of a file recorded as applied, a
    second ``BEGIN`` nests). A ``COMMIT`` with no ``BEGIN`` before it ends no
    transaction of the file's own.
    Fix: remove it; split the file where part of it must commit first.
    squawk flags a ``BEGIN`` inside an open transaction and a ``COMMIT``/``ROLLBACK``
    with none; calctl also flags what squawk accepts and ``migrate apply`` refuses:
    a second ``BEGIN … COMMIT`` block, a ``COMMIT`` before the last statement, a final
    ``ROLLBACK``, savepoints. A ``BEGIN`` never ended is CAL046's. Any PostgreSQL version.
    """

    code = "CAL045"
    name = "transaction-nesting"
    severity = "warning"
    squawk = ("transaction-nesting",)
    kinds = frozenset({"TransactionStmt"})
    example = "CREATE TABLE accounts (id bigint PRIMARY KEY);\nCOMMIT;\n"

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        found = control(scope.statements)
        if not found:
            return
        statements = scope.statements
        first, last = statements[0], statements[-1]
        unended = left_open(statements)
        opened = False
        for stmt in found:
            kind = str(stmt.node.get("kind", ""))
            chain = bool(stmt.node.get("chain"))
            was_open = opened
            if kind in OPENS:
                opened = True
            elif kind in CLOSES and not chain:
                opened = False
            if stmt is unended:
                continue
            if stmt is first and kind in OPENS:
                continue
            if stmt is last and kind == "TRANS_STMT_COMMIT" and not chain and was_open:
                continue
            words = _WORDS.get(kind, "transaction control") + (" AND CHAIN" if chain else "")
            if kind in CLOSES and not was_open:
                message = (f"{words} without a BEGIN before it: the file has no transaction of "
                           "its own to end")
            elif kind in OPENS and was_open:
                message = f"{words} inside the file's open transaction nests transactions"
            else:
                message = (f"{words} inside a migration: calctl runs the file in one "
                           "transaction and `migrate apply` refuses it")
            yield self.finding(stmt, message, "Remove it; put what must commit first in a "
                                              "file of its own.")
