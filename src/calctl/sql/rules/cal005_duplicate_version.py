from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.documents import Problem
from calctl.sql.rules.base import Rule, RuleContext

_FLYWAY = re.compile(r"^[Vv](\d+(?:[._]\d+)*)__")
_PLAIN = re.compile(r"^(\d+(?:[-.]\d+)*)(?=[_.\-]|$)")


def version_of(path: str) -> str | None:
    """The version prefix of a migration's first path component, normalised."""
    head = path.split("/", 1)[0]
    m = _FLYWAY.match(head) or _PLAIN.match(head)
    if not m:
        return None
    parts = re.split(r"[._-]", m.group(1))
    return ".".join(str(int(p)) if p.isdigit() else p for p in parts)


class DuplicateVersion(Rule):
    """Two migrations share one version prefix.

    Problem: tools that key their history on the version (Flyway, golang-migrate,
    dbmate) refuse the directory or skip one file, and the order between the two
    depends only on the rest of their names.
    Fix: give each migration its own version number.
    """

    code = "CAL005"
    name = "duplicate-version"
    severity = "warning"
    scope = "lint"

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        first: dict[str, str] = {}
        for file in ctx.files:
            version = version_of(file.path)
            if version is None:
                continue
            head = file.path.split("/", 1)[0]
            seen = first.setdefault(version, head)
            if seen != head:
                yield self.problem(
                    file.path,
                    f"{file.path} has version {version}, like {seen}",
                    line=1, hint="Renumber one of them.",
                )
