from __future__ import annotations

import re

from calctl.sql.rules.column_types import QUALIFIER, ColumnTypeRule


class PreferBigintOverInt(ColumnTypeRule):
    """A column of a 32-bit integer type (``integer``, ``int``, ``int4``, ``serial``).

    Problem: a 32-bit column runs out at 2,147,483,647; an id column of a busy table
    gets there, and widening it later rewrites the table under an ACCESS EXCLUSIVE
    lock.
    Fix: use ``bigint`` (``bigserial`` for ``serial``): the fix rewrites the type.
    Read, as squawk does, in ``CREATE TABLE`` columns, ``ADD COLUMN`` and ``ALTER
    COLUMN … TYPE`` (arrays too); quiet for ``bigint``, ``smallint`` (CAL039) and
    the types of composite types, domains and functions. Any PostgreSQL version.
    """

    code = "CAL038"
    name = "prefer-bigint-over-int"
    severity = "warning"
    squawk = ("prefer-bigint-over-int",)
    example = "CREATE TABLE accounts (id integer PRIMARY KEY);\n"
    names = frozenset({"int4", "int", "integer", "serial", "serial4"})
    spelling = re.compile(QUALIFIER + r'"?(?i:(int4|integer|int|serial4|serial))"?(?![\w$])')
    message = "{type} is a 32-bit integer type: its values run out at 2,147,483,647"
    hint = "Use bigint (bigserial for serial): widening a full column later rewrites the table."
    fix_title = "Use bigint."

    def replacement(self, written: re.Match[str]) -> str:
        return "bigserial" if written.group(1).lower().startswith("serial") else "bigint"
