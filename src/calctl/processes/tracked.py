"""The record of a running command's tree a later calctl can end (after ``kill -9``),
and :func:`end_tracked`, which ends only processes matching it exactly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from calctl.processes.containment import Cgroup
from calctl.processes.proctable import (
    LINUX,
    Proc,
    ancestors,
    boot_id,
    descendants,
    end_processes,
    owner_uid,
    read_proc,
)


@dataclass
class Tracked:
    """What identifies the processes of one command, for a later calctl to end them.

    Saved by the caller as it changes; it holds no command text, only numbers.
    """

    owner: tuple[int, int]
    boot: str
    leader: tuple[int, int] | None = None
    seen: set[tuple[int, int]] = field(default_factory=set)
    cgroup: str | None = None

    def owner_alive(self) -> bool:
        """The calctl that ran the command is still running (then it ends its own)."""
        if not LINUX or self.boot != boot_id():
            return False
        owner = read_proc(self.owner[0])
        return owner is not None and owner.start == self.owner[1] and owner.alive

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "owner": list(self.owner), "boot": self.boot,
                "leader": list(self.leader) if self.leader else None,
                "seen": sorted([p, s] for p, s in self.seen), "cgroup": self.cgroup}

    @staticmethod
    def from_dict(data: Any) -> Tracked | None:
        """A record read back; None unless every field has the expected shape."""
        def pair(value: Any) -> tuple[int, int] | None:
            if (isinstance(value, list) and len(value) == 2
                    and all(type(v) is int and 0 < v < 2**63 for v in value)):
                return value[0], value[1]
            return None

        if not isinstance(data, dict) or data.get("version") != 1:
            return None
        owner = pair(data.get("owner"))
        leader = pair(data["leader"]) if data.get("leader") is not None else None
        seen_raw = data.get("seen")
        cgroup = data.get("cgroup")
        if owner is None or not isinstance(data.get("boot"), str) \
                or (data.get("leader") is not None and leader is None) \
                or not isinstance(seen_raw, list) or len(seen_raw) > 100_000 \
                or not (cgroup is None or isinstance(cgroup, str)):
            return None
        seen = {pair(x) for x in seen_raw}
        if None in seen:
            return None
        return Tracked(owner, data["boot"], leader,
                       {p for p in seen if p is not None}, cgroup)



def end_tracked(tracked: Tracked) -> int:
    """End what a dead calctl's command left running; how many processes were ended.

    The record is state read back, so it only ever narrows what is signalled:
    a process is ended only when it is alive now, belongs to this user, started
    no earlier than the command, is not pid 1, this process or one of its
    ancestors, and either matches a recorded (pid, start time) exactly, or sits
    in the command's recorded session or process group (only while that id has
    not been reused by a newer leader), or descends from such a process through
    processes that pass the same checks. A record from another boot, or whose owner is
    still running, ends nothing. A recorded cgroup is killed whole (it was made
    by calctl for this command alone).
    """
    if not LINUX or tracked.boot != boot_id() or tracked.owner_alive():
        return 0
    ended = 0
    if tracked.cgroup:
        group = Cgroup.trusted(tracked.cgroup)
        if group is not None:
            ended += group.kill()
    exact = set(tracked.seen) | ({tracked.leader} if tracked.leader else set())
    if not exact:
        return ended
    # nothing the command started can be older than the command itself
    floor = tracked.leader[1] if tracked.leader else min(start for _, start in exact)
    uid = os.geteuid()
    protected = ancestors()
    session = tracked.leader
    if session is not None:
        holder = read_proc(session[0])
        if holder is not None and holder.start != session[1]:
            session = None  # the id now belongs to a newer process: do not trust it

    def allowed(p: Proc) -> bool:
        return (p.pid > 1 and p.pid not in protected and p.start >= floor
                and owner_uid(p.pid) == uid)

    def select(procs: dict[int, Proc], stopped: set[int]) -> set[int]:
        roots = {p.pid for p in procs.values() if (p.pid, p.start) in exact}
        if session is not None:
            roots |= {p.pid for p in procs.values()
                      if session[0] in (p.sid, p.pgid) and p.start >= session[1]}
        return descendants(procs, roots | stopped, allowed)

    return ended + end_processes(select)
