"""Running checks: all at once on one event loop, each under its own timeout.

A check that hangs past its timeout, or raises, is that check's failure; the run
goes on. The runner is calctl's subreaper for the run's duration (Linux), so a
process a ``command`` check's tree left behind, even outside its session, is ended
when the last check is done.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from calctl.config.checks import CheckSpec
from calctl.guard.model import CheckContext, Outcome

# A check past its own timeout by this much is abandoned (a check enforces its timeout
# itself and reports it in its own words; this catches one that does not).
GRACE = 2.0


# Check types with a check_sync: a run of one of them alone needs no event loop (cron's
# common case, where importing asyncio would be a fifth of the run).
SYNC = frozenset({"tcp", "log", "postgres", "migrations"})


@dataclass(frozen=True)
class Ran:
    spec: CheckSpec
    outcome: Outcome
    duration: float


def run_checks(specs: Sequence[CheckSpec], ctx: CheckContext) -> list[Ran]:
    """Run ``specs`` concurrently; results in the order given."""
    if not specs:
        return []
    if len(specs) == 1 and specs[0].type in SYNC:
        return [_run_alone(specs[0], ctx)]
    import asyncio

    ctx.tls = any(s.type == "http" and not str(s.options["url"]).lower().startswith("http:")
                  for s in specs)

    if not any(spec.type == "command" for spec in specs):
        return asyncio.run(_run_all(specs, ctx))
    from calctl.processes.containment import subreaper

    started_at = time.time()
    with subreaper():
        try:
            return asyncio.run(_run_all(specs, ctx))
        finally:
            _end_orphans(started_at)


async def _run_all(specs: Sequence[CheckSpec], ctx: CheckContext) -> list[Ran]:
    import asyncio

    try:
        return list(await asyncio.gather(*(_run_one(spec, ctx) for spec in specs)))
    finally:
        await ctx.aclose()


async def _run_one(spec: CheckSpec, ctx: CheckContext) -> Ran:
    import asyncio

    from calctl.guard.checks import check_function

    started = time.monotonic()
    try:
        outcome = await asyncio.wait_for(check_function(spec.type)(spec, ctx),
                                         spec.timeout + GRACE)
    except TimeoutError:
        outcome = Outcome(False, f"check {spec.name} did not finish within "
                          f"{spec.timeout:g} s")
    except Exception as exc:  # a crashing check is its own failure, never the run's
        outcome = Outcome(False, f"check {spec.name} failed: {type(exc).__name__}: {exc}",
                          data={"exception": type(exc).__name__})
    return _over_time(spec, outcome, round(time.monotonic() - started, 3))


def _run_alone(spec: CheckSpec, ctx: CheckContext) -> Ran:
    """One check without asyncio, in a daemon thread joined for its timeout (a check
    that hangs is abandoned, and does not keep the process alive)."""
    import importlib
    import threading

    from calctl.guard.checks import MODULES

    function = importlib.import_module(f"calctl.guard.checks.{MODULES[spec.type]}").check_sync
    box: list[Outcome] = []

    def work() -> None:
        try:
            box.append(function(spec, ctx))
        except Exception as exc:  # a crashing check is its own failure
            box.append(Outcome(False, f"check {spec.name} failed: {type(exc).__name__}: "
                               f"{exc}", data={"exception": type(exc).__name__}))

    started = time.monotonic()
    thread = threading.Thread(target=work, name="calctl-guard-check", daemon=True)
    thread.start()
    thread.join(spec.timeout + GRACE)
    outcome = box[0] if box else Outcome(
        False, f"check {spec.name} did not finish within {spec.timeout:g} s")
    return _over_time(spec, outcome, round(time.monotonic() - started, 3))


def _over_time(spec: CheckSpec, outcome: Outcome, duration: float) -> Ran:
    if outcome.ok and duration > spec.timeout:
        outcome = Outcome(False, f"check {spec.name} took {duration:g} s, over its timeout "
                          f"of {spec.timeout:g} s", detail=outcome.detail,
                          cursor=outcome.cursor)
    return Ran(spec, outcome, duration)


def _end_orphans(since: float) -> None:
    """End what the run's commands left that became our children (we were their
    subreaper): processes whose parent is calctl that started during the run."""
    import os

    from calctl.processes.proctable import LINUX, Proc, end_processes, scan

    if not LINUX:
        return
    me = os.getpid()
    found = _ticks_since_boot(since)
    if found is None:
        return
    first: int = found

    def select(procs: dict[int, Proc], stopped: set[int]) -> set[int]:
        return {p.pid for p in procs.values() if p.ppid == me and p.start >= first}

    def reap(pid: int) -> None:
        import contextlib

        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)

    if any(p.ppid == me and p.start >= first for p in scan().values()):
        end_processes(select, reap)


def _ticks_since_boot(epoch: float) -> int | None:
    """``epoch`` as /proc's start time unit (clock ticks since boot)."""
    import os

    try:
        with open("/proc/stat", encoding="ascii") as handle:
            btime = next(int(line.split()[1]) for line in handle if line.startswith("btime"))
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, ValueError):
        return None
    return int((epoch - btime) * ticks) - ticks  # a second early: btime is rounded
