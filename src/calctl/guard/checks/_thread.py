"""Running blocking work (psycopg, the migration analysis) off the event loop.

A daemon thread rather than ``asyncio.to_thread``: the default executor's threads are
joined when the interpreter exits, so a database that never answers would keep a
timed-out ``guard once`` alive; a daemon thread is left behind instead.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_thread(function: Callable[[], T]) -> T:
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(value: T | None, error: BaseException | None) -> None:
        if future.done():
            return  # the check timed out meanwhile
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)  # type: ignore[arg-type]

    def work() -> None:
        try:
            value = function()
        except BaseException as exc:  # handed to the awaiting check
            loop.call_soon_threadsafe(settle, None, exc)
        else:
            loop.call_soon_threadsafe(settle, value, None)

    threading.Thread(target=work, name="calctl-guard-check", daemon=True).start()
    return await future
