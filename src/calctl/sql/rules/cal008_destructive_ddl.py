from __future__ import annotations

from calctl.sql.facts import Note
from calctl.sql.observations import DESTRUCTIVE, Observation
from calctl.sql.rules.base import ObservationRule


class DestructiveDDL(ObservationRule):
    """DDL that destroys data (DROP TABLE, DROP SCHEMA, DROP COLUMN, TRUNCATE).

    Problem: the data is gone once it runs, and the clients that still read it
    break. ``IF EXISTS`` does not change that (it only lets the statement pass
    where the object is already gone), so a guarded drop fires too, as squawk's
    ban-drop-table, ban-drop-column and ban-drop-schema do (one calctl rule for the
    three: ``-- squawk-ignore`` with any of their names silences this rule on the
    statement). ``TRUNCATE`` is calctl's own (squawk flags only ``TRUNCATE …
    CASCADE``, under another rule).
    Fix: make sure nothing still needs it and a backup exists, then acknowledge the
    statement with ``-- calctl: ignore CAL008``.
    """

    code = "CAL008"
    name = "destructive-ddl"
    severity = "warning"
    scope = "lint"
    observes = frozenset({DESTRUCTIVE})
    squawk = ("ban-drop-table", "ban-drop-column", "ban-drop-schema")
    example = ("ALTER TABLE accounts DROP COLUMN legacy_plan;\nDROP TABLE legacy_invoices;\n"
               "DROP SCHEMA legacy;\n")

    @classmethod
    def note(cls, seen: Observation) -> Note:
        return cls.make_note(
            seen,
            f"{seen.subject} destroys data",
            "Check that nothing still needs it and that a backup exists, then silence this "
            "statement with `-- calctl: ignore CAL008`.",
        )
