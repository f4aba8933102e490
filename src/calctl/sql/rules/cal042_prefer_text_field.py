from __future__ import annotations

import re

from calctl.sql.rules.column_types import QUALIFIER, ColumnTypeRule, Node


class PreferTextField(ColumnTypeRule):
    """A ``varchar(n)`` column: a length limit in the type.

    Problem: changing the limit later is an ``ALTER COLUMN … TYPE``, which takes an
    ACCESS EXCLUSIVE lock on the table (and rewrites it when the limit shrinks),
    blocking reads and writes.
    Fix: ``text``, with a ``CHECK (length(column) <= n)`` constraint if the limit
    matters: a constraint can be replaced without blocking (``NOT VALID``, then
    ``VALIDATE``). The fix replaces ``varchar(n)`` by ``text`` (add the CHECK by
    hand). Quiet for ``varchar`` without a length and for ``text``; read, as squawk
    does, in ``CREATE TABLE`` columns, ``ADD COLUMN`` and ``ALTER COLUMN … TYPE``.
    Any PostgreSQL version.
    """

    code = "CAL042"
    name = "prefer-text-field"
    severity = "warning"
    squawk = ("prefer-text-field",)
    example = "CREATE TABLE accounts (id bigint PRIMARY KEY, email varchar(255));\n"
    spelling = re.compile(QUALIFIER + r'(?i:"varchar"|varchar|character\s+varying'
                          r'|char\s+varying)\s*\(\s*\d+\s*\)')
    message = "varchar(n) puts a length limit in the column's type"
    hint = ("Use text (with a CHECK constraint on its length if the limit matters): changing "
            "a varchar's limit takes an ACCESS EXCLUSIVE lock on the table.")
    fix_title = "Use text."

    def fires(self, name: str, tn: Node) -> bool:
        return name == "varchar" and bool(tn.get("typmods"))

    def replacement(self, written: re.Match[str]) -> str:
        return "text"
