from __future__ import annotations

import re

from calctl.providers.rules.base import FixRule, Found, RuleInput
from calctl.providers.rules.fix001_forward_dependency import reorder

_MISSING = re.compile(r'\b(column|type)\s+"?([^"\s]+?)"?(?:\s+of relation\s+"[^"]+")?\s+does not '
                      r"exist", re.I)


class CreatedLater(FixRule):
    """A migration failed because a column or type it uses is created by a
    later-numbered migration.

    Problem: an ``ALTER TABLE … ADD COLUMN`` or ``CREATE TYPE`` sorts after the migration
    that uses it (SQLSTATE 42703 or 42704), typically after two branches were merged
    with clashing numbers.
    Fix: the same renames as FIX001 — the user after the file that creates the column
    or type, or that file before its first user — never renaming an applied migration.
    """

    code = "FIX004"
    name = "created-later"

    def diagnose(self, inp: RuleInput) -> Found | None:
        m = _MISSING.search(inp.message)
        if m is None or inp.failing is None:
            return None
        name = m.group(2).split(".")[-1]
        return reorder(inp, name, f"{m.group(1).lower()} {name}")
