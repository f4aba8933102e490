"""Providers by name: the diagnosers and publishers a report may use.

Only the named module is imported, when it is asked for, so ``calctl --help`` and a
report that uses ``memory`` alone never import httpx or gitpython.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import cast

from calctl.errors import UsageError
from calctl.providers.base import Provider, Publisher

# name → (module, class)
DIAGNOSERS: dict[str, tuple[str, str]] = {
    "memory": ("calctl.providers.memory", "MemoryProvider"),
    "rules": ("calctl.providers.rules", "RulesProvider"),
    "openai": ("calctl.providers.openai", "OpenAIProvider"),
}
PUBLISHERS: dict[str, tuple[str, str]] = {
    "github": ("calctl.providers.github", "GitHubPublisher"),
    "coderabbit": ("calctl.providers.coderabbit", "CodeRabbitPublisher"),
}


def _load(names: Sequence[str], table: dict[str, tuple[str, str]], what: str,
          setting: str) -> list[object]:
    out: list[object] = []
    for name in names:
        entry = table.get(name.strip().lower())
        if entry is None:
            known = ", ".join(table)
            raise UsageError(f"unknown {what} {name!r}; known {what}s: {known}",
                             hint=f"Fix {setting} in calctl.toml or the command-line flag.",
                             code="unknown-provider")
        module, cls = entry
        out.append(getattr(importlib.import_module(module), cls)())
    return out


def diagnosers(names: Sequence[str]) -> list[Provider]:
    """The diagnosers named, in that order (``[report] providers``)."""
    return cast("list[Provider]", _load(names, DIAGNOSERS, "diagnoser", "[report] providers"))


def publishers(names: Sequence[str]) -> list[Publisher]:
    """The publishers named, in that order (``[report] publish`` / ``--publish``)."""
    return cast("list[Publisher]", _load(names, PUBLISHERS, "publisher", "[report] publish"))
