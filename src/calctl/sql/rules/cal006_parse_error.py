from __future__ import annotations

from calctl.sql.facts import Note
from calctl.sql.observations import PARSE_ERROR, Observation
from calctl.sql.rules.base import ObservationRule


class ParseError(ObservationRule):
    """The PostgreSQL parser rejects the file.

    Problem: the migration fails when it runs, and calctl only reads it
    approximately (sqlparse tokens), so objects it creates or uses may be missed.
    Fix: correct the syntax at the line and column the message names.
    """

    code = "CAL006"
    name = "parse-error"
    severity = "error"
    scope = "order"
    observes = frozenset({PARSE_ERROR})

    @classmethod
    def note(cls, seen: Observation) -> Note:
        more = f" ({seen.more} more statements fail to parse)" if seen.more else ""
        return cls.make_note(
            seen,
            f"PostgreSQL parser: {seen.subject} (line {seen.line}, column {seen.column})"
            f"{more}; the statements it rejects are analysed approximately from tokens",
            "Fix the syntax; objects those statements create or use may be missed.",
        )
