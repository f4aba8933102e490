"""What keeps ``migrate verify``'s throwaway databases from outliving it: signals held off
while cleaning up (:class:`_Shield`), cleanup actions that run to completion
(:class:`_Janitor`), and names that say who made a resource and whether its maker is
provably gone (:func:`_creator`, :func:`_creator_gone`). :mod:`calctl.migrate.throwaway`
uses them; see its docstring for the guarantees.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from calctl.interrupts import HANDLED, Interrupted


class _Shield:
    """While a throwaway exists, the first terminating signal unwinds (Interrupted);
    any later one, and any that arrives while cleaning up, waits for the cleanup."""

    def __init__(self) -> None:
        self.raised = False
        self.cleaning = 0
        self.pending: int | None = None

    def handle(self, signum: int, frame: object) -> None:
        if self.raised or self.cleaning:
            self.pending = self.pending or signum
            return
        self.raised = True
        raise Interrupted(signum)

    def deliver(self) -> None:
        """Raise a signal that waited, now that there is nothing to clean up."""
        if self.pending is not None and not self.raised and not self.cleaning:
            self.raised = True
            raise Interrupted(self.pending)


@contextlib.contextmanager
def _shielded() -> Iterator[_Shield]:
    shield = _Shield()
    if threading.current_thread() is not threading.main_thread():
        yield shield  # only the main thread receives signals (and may set handlers)
        return
    previous: dict[int, Any] = {}
    try:
        for signum in HANDLED:
            if signal.getsignal(signum) is not signal.SIG_IGN:  # nohup stays nohup
                previous[signum] = signal.signal(signum, shield.handle)
        yield shield
    finally:
        # Once a signal came and everything is cleaned up, calctl is on its way out with
        # 128 + that signal: later ones are ignored, so neither the exit code nor the exit
        # changes (SIG_IGN, since Python resets its own handlers to the default action
        # while it shuts down, and a late SIGINT would then kill it).
        for number, handler in previous.items():
            if shield.raised or shield.pending:
                signal.signal(number, signal.SIG_IGN)
            else:
                signal.signal(number, signal.SIG_DFL if handler is None else handler)
        shield.deliver()


class _Janitor:
    """Cleanup actions, undone last first. Each is idempotent and stays listed until it
    has completed, so one cut short is run again by the next :meth:`run`."""

    def __init__(self, shield: _Shield) -> None:
        self._shield = shield
        self._actions: list[Callable[[], None]] = []

    def add(self, action: Callable[[], None]) -> None:
        self._actions.append(action)

    def discard(self, action: Callable[[], None]) -> None:
        self._actions.remove(action)

    def run(self) -> None:
        self._shield.cleaning += 1
        error: Exception | None = None
        try:
            while self._actions:
                try:
                    self._actions[-1]()
                except Exception as exc:  # a bug in one action must not skip the others
                    error = error or exc
                self._actions.pop()
        finally:
            self._shield.cleaning -= 1
        if error is not None:
            raise error


# ------------------------------------------------------------------ who made it, and are they gone


def _start_time(pid: int) -> int | None:
    """The start time (clock ticks after boot) of a live process; None if gone or a zombie."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


@functools.cache
def _namespace() -> str | None:
    """8 hex digits naming this kernel boot and PID namespace (None without /proc):
    a pid recorded under another boot or namespace tells nothing about this one."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pid_ns = os.readlink("/proc/self/ns/pid")
        proc_pid = int(Path("/proc/self/stat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if proc_pid != os.getpid():  # /proc belongs to another PID namespace
        return None
    return hashlib.sha256(f"{boot} {pid_ns}".encode()).hexdigest()[:8]


def _creator(separator: str) -> str:
    """``pid<sep>start<sep>ns<sep>random``, or just random where /proc cannot tell."""
    random = secrets.token_hex(4)
    namespace, start = _namespace(), _start_time(os.getpid())
    if namespace is None or start is None:
        return random
    return separator.join((str(os.getpid()), str(start), namespace, random))


def _creator_gone(pid: str, start: str, namespace: str) -> bool:
    """Provably dead: recorded in this boot and namespace, and no such process now."""
    return namespace == _namespace() and _start_time(int(pid)) != int(start)
