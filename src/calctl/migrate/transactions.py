"""Which files must run outside a transaction, and which statements are transaction control.

A file runs statement by statement in autocommit mode when the plan says so
(``PlanFile.transaction`` is False), when it carries ``-- calctl: no-transaction``,
when its name has ``.autocommit.``, or when it holds a statement PostgreSQL
refuses inside a transaction block. The check is regular expressions, cheap
enough to run on every file of every apply.
"""

from __future__ import annotations

import re

from calctl.migrate.statements import Statement

MARKER = re.compile(r"^\s*--\s*calctl:\s*no-transaction\b", re.I | re.M)

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

# Top-level transaction control a file may carry for psql (BEGIN; … COMMIT;).
_CONTROL_HINT = re.compile(r"^\s*(?:begin|commit|end|start\s+transaction|rollback|abort)\b",
                           re.I | re.M)
_CONTROL = re.compile(
    r"(?:begin|commit|end|start\s+transaction|rollback|abort)"
    r"(?:\s+(?:work|transaction|isolation\s+level\s+[a-z ]+|read\s+(?:write|only)))*\s*;?\s*",
    re.I,
)


def outside_transaction_reason(path: str, text: str, plan_transaction: bool = True) -> str:
    """Why ``path`` must run outside a transaction, or ``""`` when it may run inside one."""
    if MARKER.search(text):
        return "marked -- calctl: no-transaction"
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


def may_hold_transaction_control(text: str) -> bool:
    """Cheap pre-check: a line starting with BEGIN/COMMIT/… (PL/pgSQL bodies match too)."""
    return bool(_CONTROL_HINT.search(text))


def is_transaction_control(statement: Statement) -> bool:
    """True for a statement that is BEGIN/START TRANSACTION/COMMIT/END/ROLLBACK/ABORT."""
    return bool(_CONTROL.fullmatch(statement.text.strip()))


def blank(text: str, statements: list[Statement]) -> str:
    """``text`` with ``statements`` (and their semicolons) replaced by spaces, newlines kept."""
    chars = list(text)
    for statement in statements:
        end = statement.end
        while end < len(text) and text[end] in " \t":
            end += 1
        if end < len(text) and text[end] == ";":
            end += 1
        for i in range(statement.start, end):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)
