from __future__ import annotations

from calctl.sql.rules.base import NoteRule


class DestructiveDDL(NoteRule):
    """DDL that destroys data (DROP TABLE, DROP SCHEMA, DROP COLUMN, TRUNCATE) without a guard.

    Problem: the data is gone once it runs, and a DROP without IF EXISTS fails
    outright where the object is already gone.
    Fix: make sure nothing still reads it and a backup exists; use IF EXISTS, and
    acknowledge the statement with ``-- calctl: ignore CAL008``.
    """

    code = "CAL008"
    name = "destructive-ddl"
    severity = "warning"
    scope = "lint"
