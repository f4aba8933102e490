"""Which files must run outside a transaction, and which statements are transaction control.

A file runs statement by statement in autocommit mode when the plan says so
(``PlanFile.transaction`` is False), when it carries ``-- calctl: no-transaction``,
when its name has ``.autocommit.``, or when it holds a statement PostgreSQL
refuses inside a transaction block. That check is regular expressions, cheap
enough to run on every file of every apply.

Transaction control written in a file (BEGIN, COMMIT, ROLLBACK, savepoints…) is
judged from the file's parse tree by :func:`runnable`: a leading BEGIN and a
trailing COMMIT are dropped, anything else makes the file fail before it runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from calctl.sql.split import SplitText, Statement

MARKER = re.compile(r"^\s*--\s*calctl:\s*no-transaction\b"
                    r"|^--\s*\+goose\s+no\s+transaction\b"
                    r"|^\s*--\s*migrate:up\b[^\n]*\btransaction:false\b", re.I | re.M)

# Statements PostgreSQL refuses inside a transaction block.
_OUTSIDE_ONLY = re.compile(
    r"(?:^|;)\s*(?:"
    r"(?:create|drop)\s+(?:unique\s+)?index\s+concurrently"
    r"|reindex\b[^;]*\bconcurrently"
    r"|vacuum"
    r"|(?:create|drop)\s+database"
    r"|(?:create|drop)\s+tablespace"
    r"|alter\s+system"
    r"|(?:create|drop)\s+subscription"
    r")\b",
    re.I | re.M,
)

def outside_transaction_reason(path: str, text: str, plan_transaction: bool = True) -> str:
    """Why ``path`` must run outside a transaction, or ``""`` when it may run inside one."""
    marked = MARKER.search(text)
    if marked:
        return "marked " + " ".join(marked.group(0).split())
    if ".autocommit." in path.rsplit("/", 1)[-1]:
        return "named *.autocommit.*"
    match = _OUTSIDE_ONLY.search(_strip_comments(text))
    if match:
        words = " ".join(match.group(0).lstrip(";").split()).upper()
        return f"contains {words}, which cannot run inside a transaction"
    if not plan_transaction:
        return "the plan marks it non-transactional"
    return ""


def _strip_comments(text: str) -> str:
    if "--" not in text and "/*" not in text:
        return text
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"--[^\n]*", " ", text)


@dataclass(frozen=True)
class ControlProblem:
    """Transaction control that would commit or discard part of a file: the file is
    refused before any of it runs."""

    index: int  # the statement's index in the file's statements
    message: str
    hint: str


_HINT = ("Remove it: calctl runs each file whole in one transaction (a leading BEGIN and a "
         "trailing COMMIT are allowed and dropped); put what must commit first in a file "
         "of its own.")

_WHAT = {
    "TRANS_STMT_BEGIN": "BEGIN",
    "TRANS_STMT_START": "START TRANSACTION",
    "TRANS_STMT_COMMIT": "COMMIT",
    "TRANS_STMT_ROLLBACK": "ROLLBACK",
    "TRANS_STMT_SAVEPOINT": "SAVEPOINT",
    "TRANS_STMT_RELEASE": "RELEASE SAVEPOINT",
    "TRANS_STMT_ROLLBACK_TO": "ROLLBACK TO SAVEPOINT",
    "TRANS_STMT_PREPARE": "PREPARE TRANSACTION",
    "TRANS_STMT_COMMIT_PREPARED": "COMMIT PREPARED",
    "TRANS_STMT_ROLLBACK_PREPARED": "ROLLBACK PREPARED",
}

_WHY = {
    "TRANS_STMT_BEGIN": "after the first statement it would end the file's transaction "
                        "where psql runs autocommit",
    "TRANS_STMT_START": "after the first statement it would end the file's transaction "
                        "where psql runs autocommit",
    "TRANS_STMT_COMMIT": "it would commit the statements before it on their own",
    "TRANS_STMT_ROLLBACK": "it would discard the statements before it and let the rest "
                           "run on their own",
    "TRANS_STMT_SAVEPOINT": "savepoints inside a migration would let part of it be undone "
                            "while the file is recorded as applied",
    "TRANS_STMT_RELEASE": "savepoints inside a migration would let part of it be undone "
                          "while the file is recorded as applied",
    "TRANS_STMT_ROLLBACK_TO": "it would undo part of the file while the file is recorded "
                              "as applied",
    "TRANS_STMT_PREPARE": "it hands the file's transaction to two-phase commit",
    "TRANS_STMT_COMMIT_PREPARED": "it commits another transaction",
    "TRANS_STMT_ROLLBACK_PREPARED": "it rolls back another transaction",
}


def runnable(parsed: SplitText) -> tuple[list[Statement], ControlProblem | None]:
    """The statements to send for a parsed file, without a leading BEGIN/START
    TRANSACTION and a trailing COMMIT/END (calctl owns the transaction); or the first
    other transaction control statement, which makes the file fail before it runs.

    Decided from the parse tree (``TransactionStmt`` kinds), so ``commit;`` mid-line,
    ``COMMIT AND CHAIN`` and ``END`` are seen; a PL/pgSQL body's BEGIN/COMMIT is not a
    statement of the file. Transaction control inside a DO block or a procedure a
    ``CALL`` runs is PostgreSQL's to refuse: inside calctl's transaction it fails
    ("invalid transaction termination") and the file is rolled back whole.
    """
    statements = parsed.statements
    heads = parsed.heads
    last = len(statements) - 1
    keep: list[Statement] = []
    for index, (statement, head) in enumerate(zip(statements, heads, strict=True)):
        if head.node != "TransactionStmt":
            keep.append(statement)
            continue
        kind = head.kind
        if index == 0 and kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START"):
            continue
        if index == last and kind == "TRANS_STMT_COMMIT" and not head.chain:
            continue
        words = " ".join(statement.text.split()[:1]).upper()
        what = _WHAT.get(kind, words or "transaction control")
        if kind == "TRANS_STMT_COMMIT" and words == "END":
            what = "END"
        if kind == "TRANS_STMT_ROLLBACK" and words == "ABORT":
            what = "ABORT"
        why = _WHY.get(kind, "calctl owns the file's transaction")
        if head.chain:
            what += " AND CHAIN"
            why += ", and AND CHAIN starts a new transaction"
        if kind == "TRANS_STMT_ROLLBACK" and index == last:
            why = "a file that ends by rolling back applies nothing (psql would undo it)"
        return keep, ControlProblem(index, f"{what} inside a migration file: {why}", _HINT)
    return keep, None
