"""A file's own transaction control (BEGIN, COMMIT…), as CAL045 and CAL046 read it.

calctl owns each file's transaction: it drops a leading ``BEGIN``/``START
TRANSACTION`` and a trailing ``COMMIT``/``END`` and refuses to run a file with any
other transaction control (:func:`calctl.migrate.transactions.runnable`)."""

from __future__ import annotations

from calctl.sql.statements import Statement

OPENS = frozenset({"TRANS_STMT_BEGIN", "TRANS_STMT_START"})
CLOSES = frozenset({"TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK", "TRANS_STMT_PREPARE"})


def control(statements: list[Statement]) -> list[Statement]:
    return [stmt for stmt in statements if stmt.kind == "TransactionStmt"]


def left_open(statements: list[Statement]) -> Statement | None:
    """The ``BEGIN`` whose transaction the file never ends (as psql would run it)."""
    opened: Statement | None = None
    for stmt in control(statements):
        kind = stmt.node.get("kind")
        if kind in OPENS and opened is None:
            opened = stmt
        elif kind in CLOSES and not stmt.node.get("chain"):
            opened = None
    return opened
