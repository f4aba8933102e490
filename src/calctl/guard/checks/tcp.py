"""``tcp``: a connection to ``host``:``port`` is accepted in time."""

from __future__ import annotations

import contextlib

from calctl.config.checks import CheckSpec
from calctl.guard.model import CheckContext, Outcome


def check_sync(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    """The same check without an event loop (a run of this one check: no asyncio)."""
    import socket

    host, port = str(spec.options["host"]), int(spec.options["port"])
    try:
        socket.create_connection((host, port), timeout=spec.timeout).close()
    except TimeoutError:
        return Outcome(False, f"cannot connect to {host}:{port}: no answer within "
                       f"{spec.timeout:g} s", data={"host": host, "port": port})
    except OSError as exc:
        return Outcome(False, f"cannot connect to {host}:{port}: {exc.strerror or exc}",
                       data={"host": host, "port": port})
    return Outcome(True, detail={"host": host, "port": port})


async def check(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    import asyncio

    host, port = str(spec.options["host"]), int(spec.options["port"])
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        return Outcome(False, f"cannot connect to {host}:{port}: {exc.strerror or exc}",
                       data={"host": host, "port": port})
    writer.close()
    with contextlib.suppress(OSError):  # the peer closed first: it did accept
        await writer.wait_closed()
    return Outcome(True, detail={"host": host, "port": port})
