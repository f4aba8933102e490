from __future__ import annotations

from calctl.sql.rules.drops import DropObjectRule


class BanDropExtension(DropObjectRule):
    """``DROP EXTENSION`` of an extension.

    Problem: an extension's functions, types, operators and index methods go with it: every
    column, index and client that uses one breaks.
    Fix: make sure nothing uses any of its objects, then drop it in a later migration. Fires
    with or without ``IF EXISTS`` (it changes only what happens when the extension is
    already gone), as squawk does; acknowledge an intended drop with ``-- calctl: ignore
    CAL037``. Any PostgreSQL version.
    """

    code = "CAL037"
    name = "ban-drop-extension"
    severity = "warning"
    squawk = ("ban-drop-extension",)
    example = "DROP EXTENSION pg_trgm;\n"
    remove_types = frozenset({"OBJECT_EXTENSION"})
    what = "extension"
    hint = ("Drop it once nothing uses it any more, then silence this statement with "
            "`-- calctl: ignore CAL037`.")
