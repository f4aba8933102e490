from __future__ import annotations

import itertools
from collections.abc import Iterator

from calctl.documents import Problem
from calctl.sql.rules.base import Rule, RuleContext


class DependencyCycle(Rule):
    """Migrations need each other in a circle, so no order can satisfy them.

    Problem: whatever order they run in, one of them uses an object the other
    has not created yet.
    Fix: split one file so the statements the other file needs come first (for
    example move a foreign key into its own later migration).
    """

    code = "CAL002"
    name = "dependency-cycle"
    severity = "error"
    scope = "order"

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        labels: dict[tuple[int, int], tuple[str, int]] = {}
        for edge in ctx.resolution.edges:
            labels.setdefault((edge.provider, edge.user), (edge.object, edge.line))
        for cycle in ctx.ordering.cycles:
            steps = []
            for a, b in itertools.pairwise(cycle):
                obj, line = labels.get((a, b), ("an object", 0))
                steps.append(f"{ctx.files[b].path} uses {obj} (line {line}) "
                             f"from {ctx.files[a].path}")
            first = ctx.files[cycle[1]].path if len(cycle) > 1 else ctx.files[cycle[0]].path
            line = labels.get((cycle[0], cycle[1]), ("", 0))[1] if len(cycle) > 1 else 0
            yield self.problem(
                first,
                "dependency cycle: " + "; ".join(steps),
                line=line or None,
                hint="Split one of these files so the objects the other needs are created "
                "first.",
            )
