from __future__ import annotations

from calctl.sql.rules.base import NoteRule


class ParseError(NoteRule):
    """The PostgreSQL parser rejects the file.

    Problem: the migration fails when it runs, and calctl only reads it
    approximately (sqlparse tokens), so objects it creates or uses may be missed.
    Fix: correct the syntax at the line and column the message names.
    """

    code = "CAL006"
    name = "parse-error"
    severity = "error"
    scope = "order"
