"""Stable topological order: filename order wherever the dependencies allow.

Kahn's algorithm with a heap keyed by filename position: among the files whose
dependencies are all placed, the one that sorts first by name goes next. A file
therefore only ever moves *later*, and only when something it needs sorts after
it. When no file is ready, the rest hold a cycle: it is reported with its path,
and the earliest waiting file is placed anyway so the plan stays complete.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Ordering:
    order: list[int]               # positions (filename order) in execution order
    cycles: list[list[int]]        # each a closed path of positions: a → b → … → a


def stable_order(count: int, edges: Iterable[tuple[int, int]],
                 soft: Iterable[tuple[int, int]] = ()) -> Ordering:
    """Order ``count`` nodes; an edge (a, b) means a must run before b.

    ``soft`` edges keep an order only filename order suggests (a redefinition after the
    first definition, a drop before the next one): one that closes a cycle with the
    others is dropped, so a file placed by what it really needs never runs before it."""
    hard = list(edges)
    soft = list(soft)
    if not soft:
        return _order(count, hard)
    first = _order(count, [*hard, *soft])
    if not first.cycles:
        return first
    component = _components(count, [*hard, *soft])
    kept = [(a, b) for a, b in soft if component[a] != component[b]]
    return _order(count, [*hard, *kept])


def _components(count: int, edges: list[tuple[int, int]]) -> list[int]:
    """Strongly connected component of each node (iterative Tarjan): an edge inside a
    component lies on a cycle."""
    succ: list[list[int]] = [[] for _ in range(count)]
    for a, b in edges:
        succ[a].append(b)
    index = [-1] * count
    low = [0] * count
    on_stack = [False] * count
    component = [-1] * count
    stack: list[int] = []
    counter = 0
    for root in range(count):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack[node] = True
            if i < len(succ[node]):
                work.append((node, i + 1))
                nxt = succ[node][i]
                if index[nxt] < 0:
                    work.append((nxt, 0))
                elif on_stack[nxt]:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                while True:
                    top = stack.pop()
                    on_stack[top] = False
                    component[top] = node
                    if top == node:
                        break
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return component


def _order(count: int, edges: Iterable[tuple[int, int]]) -> Ordering:
    succ: list[list[int]] = [[] for _ in range(count)]
    preds: list[set[int]] = [set() for _ in range(count)]
    for a, b in edges:
        if a == b or a in preds[b]:
            continue
        preds[b].add(a)
        succ[a].append(b)
    waiting = [len(p) for p in preds]
    heap = [n for n in range(count) if waiting[n] == 0]
    heapq.heapify(heap)
    placed = [False] * count
    order: list[int] = []
    cycles: list[list[int]] = []
    while len(order) < count:
        if not heap:
            rest = [n for n in range(count) if not placed[n]]
            cycle = _find_cycle(rest, preds, placed)
            if cycle:
                cycles.append(cycle)
            # break the cycle at its earliest file so the plan is complete
            start = min(cycle[:-1]) if cycle else rest[0]
            waiting[start] = 0
            heapq.heappush(heap, start)
        node = heapq.heappop(heap)
        if placed[node]:
            continue
        placed[node] = True
        order.append(node)
        for nxt in succ[node]:
            waiting[nxt] -= 1
            if waiting[nxt] == 0 and not placed[nxt]:
                heapq.heappush(heap, nxt)
    return Ordering(order, cycles)


def _find_cycle(rest: list[int], preds: list[set[int]], placed: list[bool]) -> list[int]:
    """A cycle among unplaced nodes, as a path b → … → b following "needs" edges reversed
    into execution direction (each node runs before the next)."""
    start = min(rest)
    # walk "needs" links (preds) among unplaced nodes until a node repeats
    path: list[int] = []
    index: dict[int, int] = {}
    node = start
    while node not in index:
        index[node] = len(path)
        path.append(node)
        candidates = sorted(p for p in preds[node] if not placed[p])
        if not candidates:
            return []
        node = candidates[0]
    loop = path[index[node]:]  # each needs the next
    loop.reverse()             # now each runs before the next
    return [*loop, loop[0]]
