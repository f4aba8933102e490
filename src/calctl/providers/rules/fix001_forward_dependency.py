from __future__ import annotations

import re

from calctl.providers.rules.base import FixRule, Found, RuleInput
from calctl.providers.rules.reorder import plan_move, rename_edits

# relation/function/schema/sequence … "does not exist" (42P01, 42883, 3F000, 42704)
_MISSING = re.compile(
    r'(?<!of )\b(relation|function|schema|sequence|view|procedure)\s+"?([^"\s(]+)"?'
    r"(?:\([^)]*\))?\s+does not exist", re.I)


class ForwardDependency(FixRule):
    """A migration failed because what it uses is created by a later-sorting migration.

    Problem: in filename order the migration runs before the one that creates the
    relation, function or schema it needs (lint rule CAL001), so PostgreSQL says the
    object does not exist.
    Fix: rename the user so it sorts after its creator, or the creator so it sorts
    before its first user (the version prefix changed the way the layout expects:
    golang-migrate's .up/.down pair together, a Prisma or diesel folder whole, a valid
    Flyway version). A migration the target database has applied is never renamed;
    when both are, the fault is diagnosed without a patch.
    """

    code = "FIX001"
    name = "forward-dependency"

    def diagnose(self, inp: RuleInput) -> Found | None:
        m = _MISSING.search(inp.message)
        if m is None or inp.failing is None:
            return None
        return reorder(inp, m.group(2), f"{m.group(1).lower()} {m.group(2)}")


def reorder(inp: RuleInput, name: str, what: str) -> Found | None:
    """The Found for a failing migration whose ``name`` a later file creates (shared by
    FIX001 and FIX004)."""
    user = inp.failing
    if user is None:
        return None
    creator = creator_of(inp, user, name)
    if creator is None:
        return None
    summary = f"{user} uses {what}, which {creator} creates, but sorts before it"
    move, why = plan_move(inp, user, creator)
    if move is None:
        return Found(summary, f"{why}. Reorder the files by hand, or run `calctl migrate "
                     "apply` in the plan's order (the default).", confidence=0.7)
    renames = ", ".join(f"{old} → {new}" for old, new in move.renames)
    return Found(summary, f"Fix: {move.description} ({renames}); the dependency-safe order "
                 "then matches filename order.", rename_edits(inp, move), confidence=0.9)


def creator_of(inp: RuleInput, user: str, name: str) -> str | None:
    """The later-sorting file the analysis says provides ``name`` to ``user``."""
    result = inp.analysis
    files = result.files
    try:
        index = next(i for i, f in enumerate(files) if f.path == user)
    except StopIteration:
        return None
    bare = name.split(".")[-1].strip('"').lower()
    forward = [e for e in result.resolution.edges
               if e.user == index and e.forward and e.kind == "uses"]
    named = [e for e in forward if re.search(rf'(^|[\s."]){re.escape(bare)}("|$|\s|\.)',
                                             e.object.lower())]
    edge = min(named or forward, key=lambda e: e.line, default=None)
    return files[edge.provider].path if edge is not None else None
