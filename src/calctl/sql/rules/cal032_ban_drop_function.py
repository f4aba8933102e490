from __future__ import annotations

from calctl.sql.rules.drops import DropObjectRule


class BanDropFunction(DropObjectRule):
    """``DROP FUNCTION`` of a function, procedure, routine or aggregate.

    Problem: the clients, triggers, defaults and views that still call it fail once it is
    gone.
    Fix: stop every caller first, then drop it in a later migration. Fires with or without
    ``IF EXISTS`` (it changes only what happens when the function is already gone), as
    squawk does; acknowledge an intended drop with ``-- calctl: ignore CAL032``. Any
    PostgreSQL version.
    """

    code = "CAL032"
    name = "ban-drop-function"
    severity = "warning"
    squawk = ("ban-drop-function",)
    example = "DROP FUNCTION account_balance(bigint);\n"
    remove_types = frozenset({"OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE",
                              "OBJECT_AGGREGATE"})
    what = "function"
    hint = ("Drop it once nothing uses it any more, then silence this statement with "
            "`-- calctl: ignore CAL032`.")
