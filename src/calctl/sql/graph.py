"""Stable topological order: filename order wherever the dependencies allow.

Kahn's algorithm with a heap keyed by filename position: among the files whose
dependencies are all placed, the one that sorts first by name goes next. A file
therefore only ever moves *later*, and only when something it needs sorts after
it. A need may also be a choice (idempotent creators, ``CREATE … IF NOT EXISTS`` in
several files): it is met as soon as *any* of the files is placed.

When no file is ready, the rest hold a cycle. The strongly connected part that
needs nothing outside itself is broken at its earliest file, which is placed
anyway so the plan stays complete; every need that placement leaves unmet is
reported as a cycle (a closed path through that need), so a plan never puts a file
before one it needs without saying so.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ordering:
    """An execution order of files and the cycles that kept it from being safe."""

    order: list[int]               # positions (filename order) in execution order
    cycles: list[list[int]]        # each a closed path of positions: a → b → … → a
    # soft edges left out because they lay on a cycle (see stable_order)
    ignored: list[tuple[int, int]] = field(default_factory=list)


def stable_order(count: int, edges: Iterable[tuple[int, int]],
                 choices: Iterable[tuple[tuple[int, ...], int]] = (),
                 soft: Iterable[tuple[int, int]] = (), *, early: bool = False) -> Ordering:
    """Order ``count`` nodes; an edge (a, b) means a must run before b; a choice
    (members, b) that one of ``members`` must (members[0] is the one a cycle names).

    ``soft`` edges keep an order only filename order suggests (a redefinition after the
    first definition, a drop before the next one): those that lie on a cycle with the
    others are dropped, so a file placed by what it really needs never waits for them."""
    hard = list(edges)
    choices = list(choices)
    soft = list(soft)
    if not soft:
        return _order(count, hard, choices, early=early)
    first = _order(count, [*hard, *soft], choices, early=early)
    if not first.cycles:
        return first
    component = _parts(count, [*hard, *soft], choices)
    kept = [(a, b) for a, b in soft if component[a] != component[b]]
    ordering = _order(count, [*hard, *kept], choices, early=early)
    ordering.ignored.extend((a, b) for a, b in soft if component[a] == component[b])
    return ordering


def _order(count: int, edges: Iterable[tuple[int, int]],
           choices: Iterable[tuple[tuple[int, ...], int]], *, early: bool = False) -> Ordering:
    """Kahn's order, the earliest file in filename order first. ``early``: break each
    cycle where it stands (:class:`_Stuck`), not once nothing else can be placed."""
    succ: list[list[int]] = [[] for _ in range(count)]
    preds: list[set[int]] = [set() for _ in range(count)]
    for a, b in edges:
        if a == b or a in preds[b]:
            continue
        preds[b].add(a)
        succ[a].append(b)
    waiting = [len(p) for p in preds]
    # choices: members, user, met; by member
    chosen: list[tuple[tuple[int, ...], int]] = []
    met: list[bool] = []
    choice_of: dict[int, list[int]] = {}
    seen: set[tuple[tuple[int, ...], int]] = set()
    for members, user in choices:
        if user in members or not preds[user].isdisjoint(members) or (members, user) in seen:
            continue  # met by the file itself, or implied by a plain need
        seen.add((members, user))
        choice_of_user = len(chosen)
        chosen.append((members, user))
        met.append(False)
        waiting[user] += 1
        for m in members:
            choice_of.setdefault(m, []).append(choice_of_user)
    heap = [n for n in range(count) if waiting[n] == 0]
    heapq.heapify(heap)
    placed = [False] * count
    order: list[int] = []
    cycles: list[list[int]] = []
    stuck = _Stuck(count, preds, chosen) if early else None
    while len(order) < count:
        if not heap or (stuck is not None and stuck.before(heap[0], placed, waiting)):
            start, unmet = _break(count, placed, preds, chosen, met)
            for need in unmet:
                cycle = _cycle_through(need, start, placed, succ, chosen, met, choice_of)
                if cycle not in cycles:
                    cycles.append(cycle)
            waiting[start] = 0
            heapq.heappush(heap, start)
        node = heapq.heappop(heap)
        if placed[node]:
            continue
        placed[node] = True
        order.append(node)
        if stuck is not None:
            stuck.placed(node)
        for nxt in succ[node]:
            waiting[nxt] -= 1
            if waiting[nxt] <= 0 and not placed[nxt]:
                heapq.heappush(heap, nxt)
        for c in choice_of.get(node, ()):
            if not met[c]:
                met[c] = True
                if stuck is not None:
                    stuck.met(c)
                user = chosen[c][1]
                waiting[user] -= 1
                if waiting[user] <= 0 and not placed[user]:
                    heapq.heappush(heap, user)
    return Ordering(order, cycles)


class _Stuck:
    """The cycles of a graph, and when each is the earliest thing left to place: once
    nothing outside it is still needed by it, none of its files can be placed, and its
    earliest unplaced file sorts before every file that can."""

    def __init__(self, count: int, preds: list[set[int]],
                 chosen: list[tuple[tuple[int, ...], int]]) -> None:
        component = _parts(count, [(p, n) for n in range(count) for p in preds[n]], chosen)
        members_of: dict[int, list[int]] = {}
        for n in range(count):
            members_of.setdefault(component[n], []).append(n)
        self.parts = [sorted(m) for m in members_of.values() if len(m) > 1]
        self.outside: list[int] = []  # what each part still waits for outside itself
        self.needed_by: dict[int, list[int]] = {}  # node → parts waiting for it
        self.choice_of: dict[int, list[int]] = {}  # choice → parts waiting for it
        self.ready: list[tuple[int, int]] = []  # (earliest unplaced member, part): a heap
        self.first = [0] * len(self.parts)
        choices_of_user: dict[int, list[int]] = {}
        for c, (_, user) in enumerate(chosen):
            choices_of_user.setdefault(user, []).append(c)
        for i, part in enumerate(self.parts):
            inside = set(part)
            external = {p for n in part for p in preds[n] if p not in inside}
            for p in external:
                self.needed_by.setdefault(p, []).append(i)
            waits = len(external)
            for c in (c for n in part for c in choices_of_user.get(n, ())):
                if inside.isdisjoint(chosen[c][0]):
                    self.choice_of.setdefault(c, []).append(i)
                    waits += 1
            self.outside.append(waits)
            if not waits:
                heapq.heappush(self.ready, (part[0], i))

    def placed(self, node: int) -> None:
        for i in self.needed_by.get(node, ()):
            self._release(i)

    def met(self, choice: int) -> None:
        for i in self.choice_of.get(choice, ()):
            self._release(i)

    def _release(self, part: int) -> None:
        self.outside[part] -= 1
        if not self.outside[part]:
            heapq.heappush(self.ready, (self.parts[part][self.first[part]], part))

    def before(self, candidate: int, placed: list[bool], waiting: list[int]) -> bool:
        """Whether a cycle should be broken before ``candidate`` is placed."""
        while self.ready:
            first, part = self.ready[0]
            members = self.parts[part]
            at = self.first[part]
            while at < len(members) and placed[members[at]]:
                at += 1
            self.first[part] = at
            if at == len(members):
                heapq.heappop(self.ready)
                continue
            if members[at] != first:
                heapq.heapreplace(self.ready, (members[at], part))
                continue
            if first > candidate:
                return False
            return not any(waiting[m] <= 0 and not placed[m] for m in members)
        return False


def _needs(node: int, placed: list[bool], preds: list[set[int]],
           chosen: list[tuple[tuple[int, ...], int]], met: list[bool],
           choices_by_user: dict[int, list[int]]) -> list[int]:
    out = [p for p in preds[node] if not placed[p]]
    for c in choices_by_user.get(node, ()):
        if not met[c]:
            out.extend(m for m in chosen[c][0] if not placed[m])
    return out


def _break(count: int, placed: list[bool], preds: list[set[int]],
           chosen: list[tuple[tuple[int, ...], int]], met: list[bool]) -> tuple[int, list[int]]:
    """The file to place although it waits (the earliest of the strongly connected
    part that needs nothing outside itself) and the unplaced files it needs (for an
    unmet choice, the member the choice names first)."""
    by_user: dict[int, list[int]] = {}
    for c, (_, user) in enumerate(chosen):
        if not met[c] and not placed[user]:
            by_user.setdefault(user, []).append(c)
    rest = [n for n in range(count) if not placed[n]]
    needs = {n: _needs(n, placed, preds, chosen, met, by_user) for n in rest}
    component = _components(rest, needs)
    # a part none of whose files needs a file of another part (one exists: the parts
    # form a DAG, and every unplaced file needs something)
    outside = {component[n] for n in rest for p in needs[n] if component[p] != component[n]}
    best = min((n for n in rest if component[n] not in outside), default=rest[0])
    unmet = sorted(p for p in preds[best] if not placed[p])
    for c in by_user.get(best, ()):
        unmet.append(chosen[c][0][0])
    return best, unmet


def _parts(count: int, edges: list[tuple[int, int]],
           choices: list[tuple[tuple[int, ...], int]]) -> dict[int, int]:
    """Strongly connected parts of the whole graph, a choice counting as a need of every
    member: node → component id."""
    needs: dict[int, list[int]] = {n: [] for n in range(count)}
    for a, b in edges:
        needs[b].append(a)
    for members, user in choices:
        needs[user].extend(members)
    return _components(list(range(count)), needs)


def _components(nodes: list[int], needs: dict[int, list[int]]) -> dict[int, int]:
    """Strongly connected components (Tarjan, iterative): node → component id."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    component: dict[int, int] = {}
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(needs[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(needs[nxt])))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component[member] = node
                        if member == node:
                            break
    return component


def _cycle_through(need: int, start: int, placed: list[bool], succ: list[list[int]],
                   chosen: list[tuple[tuple[int, ...], int]], met: list[bool],
                   choice_of: dict[int, list[int]]) -> list[int]:
    """A closed path need → start → … → need in execution direction (each runs before
    the next), through unplaced files: the need that placing ``start`` first leaves
    unmet, and why it could not be met."""
    came: dict[int, int] = {start: start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == need:
            break
        nexts = [n for n in succ[node] if not placed[n]]
        nexts += [chosen[c][1] for c in choice_of.get(node, ()) if not met[c]
                  and not placed[chosen[c][1]]]
        for n in nexts:
            if n not in came:
                came[n] = node
                queue.append(n)
    if need not in came:  # (cannot happen: start and need share a component)
        return [need, start, need]
    path = [need]
    while path[-1] != start:
        path.append(came[path[-1]])
    path.reverse()            # start → … → need
    return [need, *path]      # need → start → … → need
