"""The enum labels a Prisma migration says it removes.

Prisma rebuilds an enum to remove labels (``CREATE TYPE "T_new" AS ENUM (…)``, the
columns moved over, ``"T_new"`` renamed into the name) and writes above the migration
which labels go: ``The values [A,B] on the enum `T` will be removed.`` It computes that
list from the database its earlier migrations made, so every label the rebuild does not
list is either named there or did not exist yet when the rebuild runs: a file adding
another such label runs after the rebuild (:func:`calctl.sql.names.labels.unlisted_edges`).
"""

from __future__ import annotations

import re

from calctl.sql.extract.core import Base
from calctl.sql.facts import REMOVES, WEAK

_WARNING = re.compile(r"The values? \[([^\]\n]*)\] on the enum `([^`\n]+)` will be removed")


def removed_labels(ext: Base, text: str) -> None:
    """A weak :data:`~calctl.sql.facts.REMOVES` fact for each label a Prisma warning in
    ``text`` names (one per warning line)."""
    for match in _WARNING.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        types = tuple(ext.ref_names((match.group(2),), "type"))
        for label in match.group(1).split(","):
            if label.strip() and types:
                ext.facts.append((WEAK, REMOVES, tuple(f"{t}.{label.strip()}" for t in types),
                                  line, 1, "enum label", False, "", False))
