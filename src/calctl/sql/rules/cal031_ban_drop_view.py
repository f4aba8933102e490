from __future__ import annotations

from calctl.sql.rules.drops import DropObjectRule


class BanDropView(DropObjectRule):
    """``DROP VIEW`` of a view or a materialized view.

    Problem: the clients and the views that still read it fail once it is gone.
    Fix: stop every reader first (deploy the code that no longer reads it), then drop it in
    a later migration. Fires with or without ``IF EXISTS`` (it changes only what happens
    when the view is already gone), as squawk does; acknowledge an intended drop with ``--
    calctl: ignore CAL031``. Any PostgreSQL version.
    """

    code = "CAL031"
    name = "ban-drop-view"
    severity = "warning"
    squawk = ("ban-drop-view",)
    example = "DROP VIEW active_accounts;\n"
    remove_types = frozenset({"OBJECT_VIEW", "OBJECT_MATVIEW"})
    what = "view"
    hint = ("Drop it once nothing uses it any more, then silence this statement with "
            "`-- calctl: ignore CAL031`.")
