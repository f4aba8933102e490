from __future__ import annotations

import re

from calctl.sql.rules.column_types import QUALIFIER, ColumnTypeRule


class PreferTimestampTz(ColumnTypeRule):
    """A ``timestamp`` (without time zone) column.

    Problem: ``timestamp`` drops the UTC offset of what it stores: 21:11+02 and
    21:11-06 are stored as the same 21:11 although they are eight hours apart, and
    what a value means depends on the time zone of whoever wrote it.
    Fix: ``timestamptz`` stores an instant (shown in the session's time zone). The
    fix rewrites the type, keeping a precision (``timestamp(3)`` → ``timestamptz(3)``).
    Quiet for ``timestamptz`` / ``timestamp with time zone``, ``date`` and ``time``, and,
    as squawk, for the type written as a name (``"timestamp"``, ``pg_catalog.timestamp``);
    read, as squawk does, in ``CREATE TABLE`` columns, ``ADD COLUMN`` and ``ALTER
    COLUMN … TYPE``. Any PostgreSQL version.
    """

    code = "CAL043"
    name = "prefer-timestamp-tz"
    severity = "warning"
    squawk = ("prefer-timestamp-tz",)
    example = "CREATE TABLE events (id bigint PRIMARY KEY, at timestamp NOT NULL);\n"
    names = frozenset({"timestamp"})
    spelling = re.compile(QUALIFIER + r'"?(?i:timestamp)"?(\s*\(\s*\d+\s*\))?'
                          r'(?:\s+(?i:without)\s+(?i:time)\s+(?i:zone))?(?![\w$])')
    # as squawk: the keyword, not a quoted or qualified name (pg_catalog.timestamp)
    written = re.compile(r"(?i:timestamp)(?![\w$])")
    message = "timestamp without time zone drops the UTC offset of the values it stores"
    hint = "Use timestamptz, which stores an instant."
    fix_title = "Use timestamptz."

    def replacement(self, written: re.Match[str]) -> str:
        precision = "".join((written.group(1) or "").split())
        return "timestamptz" + precision
