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


def stable_order(count: int, edges: Iterable[tuple[int, int]]) -> Ordering:
    """Order ``count`` nodes; an edge (a, b) means a must run before b."""
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
