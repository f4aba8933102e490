"""One module per check type; each has ``async def check(spec, ctx) -> Outcome``.

A module is imported only when a configured check has its type, so a run of one
``tcp`` check never imports httpx or psycopg.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calctl.config.checks import CheckSpec
    from calctl.guard.model import CheckContext, Outcome

CheckFunction = Callable[["CheckSpec", "CheckContext"], Awaitable["Outcome"]]

MODULES = {"http": "http", "tcp": "tcp", "postgres": "postgres", "migrations": "migrations",
           "command": "command", "log": "log"}

SOURCES = {"http": "http", "tcp": "tcp", "postgres": "postgres", "migrations": "migration",
           "command": "command", "log": "log"}


def check_function(kind: str) -> CheckFunction:
    module = importlib.import_module(f"calctl.guard.checks.{MODULES[kind]}")
    function: CheckFunction = module.check
    return function
