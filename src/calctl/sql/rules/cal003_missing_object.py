from __future__ import annotations

from collections.abc import Iterator

from calctl.documents import Problem
from calctl.sql.rules.base import Rule, RuleContext


class MissingObject(Rule):
    """A migration uses an object that no migration creates and PostgreSQL does not have.

    Problem: unless something outside the directory creates it, the migration
    fails on a fresh database.
    Fix: create it in an earlier migration (or CREATE EXTENSION the extension
    that provides it), or declare it with ``--assume-exists NAME`` /
    ``[migrate] known_objects`` when it exists outside the directory.
    """

    code = "CAL003"
    name = "missing-object"
    severity = "warning"
    scope = "order"

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        for missing in ctx.resolution.missing:
            path = ctx.files[missing.user].path
            yield self.problem(
                path,
                f"{path} uses {missing.object} (line {missing.line}), which no migration "
                "creates",
                line=missing.line, column=missing.column, hint=missing.hint,
            )
