from __future__ import annotations

from collections.abc import Iterator

from calctl.documents import Problem
from calctl.sql.names import Edge
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
        # one problem per (file, creator) pair: the first use names the object, the rest
        # are counted (a table and its columns used on one line are one use)
        pairs: dict[tuple[int, int], list[Edge]] = {}
        for edge in ctx.resolution.edges:
            if edge.forward and edge.kind == "uses":
                pairs.setdefault((edge.user, edge.provider), []).append(edge)
        for edge in ctx.resolution.edges:
            if edge.forward and edge.kind == "drops":
                user = ctx.files[edge.provider].path
                dropper = ctx.files[edge.user].path
                yield self.problem(
                    dropper,
                    f"{dropper} drops or renames {edge.object}, which {user} still uses "
                    f"(line {edge.line}) — move it after {user}",
                    line=edge.drop_line or None,
                    hint=f"Rename {dropper} so it sorts after {user}; the plan runs it there.",
                )
        for (user_pos, provider_pos), edges in pairs.items():
            edges.sort(key=lambda e: (e.object.startswith("column"), e.line))
            edge = edges[0]
            user = ctx.files[user_pos].path
            provider = ctx.files[provider_pos].path
            more = len({(e.object, e.line) for e in edges}) - 1
            extra = f" (and {more} more use{'s' if more > 1 else ''} of what it creates)" \
                if more else ""
            yield self.problem(
                user,
                f"{user} uses {edge.object} (line {edge.line}), created by {provider} "
                f"— move it after {provider}{extra}",
                line=edge.line, column=edge.column,
                hint=f"Rename {user} so it sorts after {provider}; the plan runs it there.",
            )
