from __future__ import annotations

import re

from calctl.sql.rules.column_types import QUALIFIER, ColumnTypeRule


class PreferBigintOverSmallint(ColumnTypeRule):
    """A column of a 16-bit integer type (``smallint``, ``int2``, ``smallserial``).

    Problem: a 16-bit column runs out at 32,767, and widening it later rewrites the
    table under an ACCESS EXCLUSIVE lock.
    Fix: use ``bigint`` (``bigserial`` for ``smallserial``): the fix rewrites the type.
    Read, as squawk does, in ``CREATE TABLE`` columns, ``ADD COLUMN`` and ``ALTER
    COLUMN … TYPE`` (arrays too); quiet for other integer types (``integer`` is
    CAL038's). Any PostgreSQL version.
    """

    code = "CAL039"
    name = "prefer-bigint-over-smallint"
    severity = "warning"
    squawk = ("prefer-bigint-over-smallint",)
    example = "CREATE TABLE plans (id bigint PRIMARY KEY, seats smallint);\n"
    names = frozenset({"int2", "smallint", "smallserial", "serial2"})
    spelling = re.compile(QUALIFIER + r'"?(?i:(smallint|int2|smallserial|serial2))"?(?![\w$])')
    message = "{type} is a 16-bit integer type: its values run out at 32,767"
    hint = ("Use bigint (bigserial for smallserial): widening a full column later rewrites "
            "the table.")
    fix_title = "Use bigint."

    def replacement(self, written: re.Match[str]) -> str:
        return "bigint" if "int" in written.group(1).lower() else "bigserial"
