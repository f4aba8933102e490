"""Moving one migration in filename order so a forward dependency goes away.

Given a user that sorts before the file that creates what it needs, the options, in
the order they are tried:

1. rename the user so it sorts right after its creator (what ``migrate order`` does);
2. rename the creator so it sorts right before its first user;
3. swap the two version prefixes, when nothing sorts between them;

each with a free version number first and, for plain numbered files only, a letter
suffix (``002a_``) when the numbers are adjacent. A file the target database records
(applied, or failed) is never renamed. A candidate is kept only when, with the new
names, every dependency the analysis knows still points backwards except those that
already pointed forwards, and the pair in question is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

from calctl.documents import Edit
from calctl.providers.rules.base import RuleInput
from calctl.providers.rules.layout import Unit, candidates, order_of, unit_of


@dataclass(frozen=True)
class Move:
    renames: list[tuple[str, str]]   # (old, new), relative to the migration directory
    description: str


def _violations(order: list[str], edges: list[tuple[str, str]]) -> set[tuple[str, str]]:
    pos = {p: i for i, p in enumerate(order)}
    return {(a, b) for a, b in edges if a in pos and b in pos and pos[a] >= pos[b]}


def _edges(inp: RuleInput) -> list[tuple[str, str]]:
    """(must run first, runs after) between up-migration paths."""
    result = inp.analysis
    files = result.files
    return [(files[e.provider].path, files[e.user].path) for e in result.resolution.edges
            if e.kind in ("uses", "drops")]


def plan_move(inp: RuleInput, user: str, creator: str) -> tuple[Move | None, str]:
    """A rename that makes ``user`` sort after ``creator``, or None and why not."""
    result = inp.analysis
    paths = [f.path for f in result.files]
    units: dict[str, Unit] = {}
    for p in paths:
        unit = unit_of(inp.directory, p)
        if unit is not None:
            units[p] = unit
    if user not in units or creator not in units:
        return None, "the migrations' names have no version prefix to change"
    edges = _edges(inp)
    before = _violations(paths, edges)
    pair = {(creator, user)}
    first_user = min((b for a, b in before if a == creator), key=paths.index, default=user)
    blocked = [p for p in (user, creator) if inp.is_applied(p)]
    if inp.applied.error:
        return None, (f"cannot tell which migrations the database has applied "
                      f"({inp.applied.error}), so none is renamed")
    if len(blocked) == 2:
        return None, (f"both {user} and {creator} are recorded in the database's history; "
                      "renaming either would change applied history")
    tries: list[tuple[str, list[tuple[Unit, str]]]] = []
    for suffix_ok in (False, True):
        # 1. the user, right after its creator
        if user not in blocked:
            rest = [p for p in paths if p != user]
            i = rest.index(creator)
            after = units.get(rest[i + 1]) if i + 1 < len(rest) else None
            for prefix in candidates(units[user], units[creator], after, suffix_ok=suffix_ok):
                tries.append((f"rename {user} so it sorts after {creator}",
                              [(units[user], prefix)]))
        # 2. the creator, right before its first user
        if creator not in blocked:
            rest = [p for p in paths if p != creator]
            i = rest.index(first_user)
            prev = units.get(rest[i - 1]) if i > 0 else None
            for prefix in candidates(units[creator], prev, units[first_user],
                                     suffix_ok=suffix_ok):
                tries.append((f"rename {creator} so it sorts before {first_user}",
                              [(units[creator], prefix)]))
        # 3. swap, when adjacent
        if not suffix_ok and not blocked and abs(paths.index(user) - paths.index(creator)) == 1:
            u, c = units[user], units[creator]
            if u.style == c.style and u.prefix != c.prefix:
                tries.append((f"swap the versions of {user} and {creator}",
                              [(u, c.prefix), (c, u.prefix)]))
    for description, moves in tries:
        renames = [pair_ for unit, prefix in moves for pair_ in unit.with_prefix(prefix)]
        if not _free(inp, renames):
            continue
        new_path = {unit.path: unit.path_with(prefix) for unit, prefix in moves}
        new_paths = [new_path.get(p, p) for p in paths]
        if len(set(new_paths)) != len(new_paths):
            continue
        renamed_edges = [(new_path.get(a, a), new_path.get(b, b)) for a, b in edges]
        after_ = _violations(order_of(new_paths), renamed_edges)
        old_names = {(new_path.get(a, a), new_path.get(b, b)) for a, b in before}
        fixed = {(new_path.get(a, a), new_path.get(b, b)) for a, b in pair}
        if after_ <= old_names and not (after_ & fixed):
            return Move(renames, description), ""
    return None, (f"no free name puts {user} after {creator} without breaking another "
                  "dependency")


def _free(inp: RuleInput, renames: list[tuple[str, str]]) -> bool:
    """No target exists already, except a path another rename of the move frees."""
    sources = {old for old, _ in renames}
    return all(new in sources or not (inp.directory / new).exists() for _, new in renames)


def rename_edits(inp: RuleInput, move: Move) -> list[Edit]:
    """The patch's edits, ordered so no rename lands on a path not yet vacated (a swap
    goes through a temporary name)."""
    prefix = inp.dir_prefix
    pending = list(move.renames)
    edits: list[Edit] = []
    occupied = {old for old, _ in pending}
    while pending:
        ready = [r for r in pending if r[1] not in occupied]
        if not ready:  # a cycle (a swap of two equal names): break it with a temporary name
            old, new = pending.pop(0)
            temp = old + ".calctl-moving"
            edits.append(Edit(op="rename", path=prefix + old, to=prefix + temp))
            occupied.discard(old)
            pending.append((temp, new))
            continue
        for old, new in ready:
            edits.append(Edit(op="rename", path=prefix + old, to=prefix + new))
            occupied.discard(old)
            pending.remove((old, new))
    return edits
