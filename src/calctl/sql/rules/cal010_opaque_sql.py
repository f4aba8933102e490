from __future__ import annotations

from calctl.sql.rules.base import NoteRule


class OpaqueSQL(NoteRule):
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
