from __future__ import annotations

from calctl.sql.rules.drops import DropObjectRule


class BanDropDomain(DropObjectRule):
    """``DROP DOMAIN`` of a domain.

    Problem: the columns and functions typed with the domain break (with ``CASCADE``, the
    columns are dropped with it).
    Fix: move every column off the domain first, then drop it in a later migration. Fires
    with or without ``IF EXISTS`` (it changes only what happens when the domain is already
    gone), as squawk does; acknowledge an intended drop with ``-- calctl: ignore CAL035``.
    Any PostgreSQL version.
    """

    code = "CAL035"
    name = "ban-drop-domain"
    severity = "warning"
    squawk = ("ban-drop-domain",)
    example = "DROP DOMAIN email_address;\n"
    remove_types = frozenset({"OBJECT_DOMAIN"})
    what = "domain"
    hint = ("Drop it once nothing uses it any more, then silence this statement with "
            "`-- calctl: ignore CAL035`.")
