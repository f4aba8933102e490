from __future__ import annotations

from calctl.sql.facts import Note
from calctl.sql.observations import DYNAMIC_SQL, FOREIGN_LANGUAGE, Observation
from calctl.sql.rules.base import ObservationRule


class OpaqueSQL(ObservationRule):
    """A DO block runs dynamic SQL (EXECUTE) or a language calctl cannot read.

    Problem: objects it creates or uses are invisible to the dependency analysis,
    so files that need them may be ordered wrongly or reported missing.
    Fix: write the DDL statically, or declare what it creates with
    ``--assume-exists NAME`` / ``[migrate] known_objects``.
    """

    code = "CAL010"
    name = "opaque-sql"
    severity = "warning"
    scope = "order"
    observes = frozenset({DYNAMIC_SQL, FOREIGN_LANGUAGE})

    @classmethod
    def note(cls, seen: Observation) -> Note:
        if seen.kind == DYNAMIC_SQL:
            return cls.make_note(
                seen,
                "DO block runs dynamic SQL (EXECUTE); what it creates or uses is not analysed",
                "If other files use objects it creates, declare them with --assume-exists "
                "or write the DDL statically.",
            )
        return cls.make_note(
            seen,
            f"DO block in language {seen.subject} is not analysed",
            "Objects it creates are unknown to calctl; declare them with "
            "--assume-exists if other files use them.",
        )
