from __future__ import annotations

from collections.abc import Iterator

from calctl.documents import Problem
from calctl.sql.rules.base import Rule, RuleContext


class ForwardDependency(Rule):
    """A migration uses an object that only a later-sorting migration creates.

    Problem: run in filename order, the file fails (relation, type or function
    does not exist), or worse, it silently binds to an older object of that name.
    Fix: rename the file so it sorts after the file that creates the object (the
    message names it), or move the statement into that later file.
    """

    code = "CAL001"
    name = "forward-dependency"
    severity = "error"
    scope = "order"

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        for edge in ctx.resolution.edges:
            if not edge.forward or edge.kind != "uses":
                continue
            user = ctx.files[edge.user].path
            provider = ctx.files[edge.provider].path
            yield self.problem(
                user,
                f"{user} uses {edge.object} (line {edge.line}), created by {provider} — "
                f"move it after {provider}",
                line=edge.line, column=edge.column,
                hint=f"Rename {user} so it sorts after {provider}; the plan runs it there.",
            )
