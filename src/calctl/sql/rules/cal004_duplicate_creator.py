from __future__ import annotations

from collections.abc import Iterator

from calctl.documents import Problem
from calctl.sql.rules.base import Rule, RuleContext


class DuplicateCreator(Rule):
    """Two migrations create the same object with no DROP between them.

    Problem: the second CREATE fails, or with IF NOT EXISTS it silently does
    nothing, so columns and constraints it lists never exist.
    Fix: turn the second one into ALTER statements for what it adds, or drop
    the object first if it really is meant to be replaced.
    """

    code = "CAL004"
    name = "duplicate-creator"
    severity = "warning"
    scope = "lint"

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        for dup in ctx.resolution.duplicates:
            path = ctx.files[dup.file].path
            other = ctx.files[dup.other].path
            yield self.problem(
                path,
                f"{path} creates {dup.object} (line {dup.line}), already created by {other} "
                f"(line {dup.other_line})",
                line=dup.line,
                hint="Use ALTER for what this file adds, or drop the object first.",
            )
