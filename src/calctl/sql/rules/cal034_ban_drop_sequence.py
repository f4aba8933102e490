from __future__ import annotations

from calctl.sql.rules.drops import DropObjectRule


class BanDropSequence(DropObjectRule):
    """``DROP SEQUENCE`` of a sequence.

    Problem: the column defaults and clients that still call ``nextval`` on it fail once it
    is gone.
    Fix: move every default and caller off the sequence first, then drop it in a later
    migration. Fires with or without ``IF EXISTS`` (it changes only what happens when the
    sequence is already gone), as squawk does; acknowledge an intended drop with ``--
    calctl: ignore CAL034``. Any PostgreSQL version.
    """

    code = "CAL034"
    name = "ban-drop-sequence"
    severity = "warning"
    squawk = ("ban-drop-sequence",)
    example = "DROP SEQUENCE invoice_numbers;\n"
    remove_types = frozenset({"OBJECT_SEQUENCE"})
    what = "sequence"
    hint = ("Drop it once nothing uses it any more, then silence this statement with "
            "`-- calctl: ignore CAL034`.")
