from __future__ import annotations

from calctl.sql.rules.drops import DropObjectRule


class BanDropType(DropObjectRule):
    """``DROP TYPE`` (and, as in squawk, ``DROP OPERATOR [CLASS | FAMILY]`` and ``DROP CAST``).

    Problem: the columns, functions and clients that still use the type break (with
    ``CASCADE``, the columns are dropped with it).
    Fix: move every column and caller off the type first, then drop it in a later migration.
    Fires with or without ``IF EXISTS`` (it changes only what happens when the type is
    already gone), as squawk does; acknowledge an intended drop with ``-- calctl: ignore
    CAL033``. Any PostgreSQL version.
    """

    code = "CAL033"
    name = "ban-drop-type"
    severity = "warning"
    squawk = ("ban-drop-type",)
    example = "DROP TYPE account_status;\n"
    # squawk counts operators, their classes and families, and casts as types too
    remove_types = frozenset({"OBJECT_TYPE", "OBJECT_OPERATOR", "OBJECT_OPCLASS",
                              "OBJECT_OPFAMILY", "OBJECT_CAST"})
    what = "type"
    hint = ("Drop it once nothing uses it any more, then silence this statement with "
            "`-- calctl: ignore CAL033`.")
