"""Running a command as a process tree that calctl can end completely (an adapter).

A command calctl runs (a verify command today, a guard ``command`` check later)
may fork daemons, double-fork, or ``setsid`` out of its process group. So:

- Its output goes to a pipe that calctl drains while it waits, keeping only the
  tail in memory: nothing reaches the disk, and a command writing without end
  (``yes``) is only slowed down to calctl's reading (a temporary file grew by
  650 MB a second). calctl never waits for the pipe's end-of-file: a daemon that
  inherits it cannot hold calctl; the command's own exit decides, and once the
  tree is ended what is left in the pipe is read and the pipe closed.
- The command's own exit decides, within the timeout; on timeout the whole tree
  is killed.
- On Linux calctl is a *child subreaper* (``PR_SET_CHILD_SUBREAPER``) while it
  runs the command, so every orphan of the tree, ``setsid`` or not, is
  reparented to calctl and stays reachable through ``/proc`` parent links. When
  the command has exited, what it left running is stopped (``SIGSTOP``, so
  nothing forks during the sweep) and then killed, and calctl reaps it.
- Where the machine lets calctl make a cgroup v2 (root, or a delegated
  subtree), the command starts inside a fresh one and ``cgroup.kill`` ends it
  whole; the cgroup is optional, the subreaper is the portable mechanism.
  ``CALCTL_CGROUP=0`` turns the cgroup off.
- For a calctl killed with ``kill -9`` (the subreaper link dies with it), the
  caller gets a :class:`Tracked` record to save: calctl's own (pid, start time),
  the command's, every process of the tree seen while polling, the cgroup, and
  the boot id. :func:`end_tracked` ends, in a later calctl, only processes that
  match such a record exactly (see its docstring).

A process is identified by (pid, start time in clock ticks since boot, field 22
of ``/proc/<pid>/stat``): a pid alone, or a process group id, is reused.

The package: ``proctable`` reads ``/proc``, ``containment`` holds the tree (subreaper,
cgroup), ``tracked`` is the record a later calctl ends, ``runner`` runs one command.
"""

from __future__ import annotations

from calctl.processes.runner import OUTPUT_CAP, TAIL_BYTES, Completed, run
from calctl.processes.tracked import Tracked, end_tracked

__all__ = ["OUTPUT_CAP", "TAIL_BYTES", "Completed", "Tracked", "end_tracked", "run"]
