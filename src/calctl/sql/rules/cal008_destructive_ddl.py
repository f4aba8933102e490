from __future__ import annotations

from calctl.sql.facts import Note
from calctl.sql.observations import DESTRUCTIVE, Observation
from calctl.sql.rules.base import ObservationRule


class DestructiveDDL(ObservationRule):
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
    observes = frozenset({DESTRUCTIVE})

    @classmethod
    def note(cls, seen: Observation) -> Note:
        return cls.make_note(
            seen,
            f"{seen.subject} destroys data",
            "Check that nothing still needs it and that a backup exists, then silence this "
            "statement with `-- calctl: ignore CAL008`.",
        )
