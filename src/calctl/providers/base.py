"""The two small interfaces every provider implements, and what they return.

A diagnoser turns a scrubbed :class:`BugReport` into a :class:`Diagnosis` (with a
``patch`` when it has a fix); a publisher sends the report, and whatever diagnosis
the chain produced, somewhere people see it. Both receive everything they may use
through :class:`ProviderContext`, so none reads settings, the store or the
environment on its own. Everything a provider sends off the machine is built by
``outgoing`` from the already-scrubbed report, so ``report --dry-run`` can print
exactly that and nothing else leaves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.documents.report import BugReport, Diagnosis
    from calctl.store.base import Store


@dataclass(frozen=True)
class ProviderContext:
    """What a provider may use: the project, its settings, the store, the environment.

    ``environ`` is where secrets come from (``api_key_env``/``token_env`` name a
    variable in it); ``database_url`` is the target database when the caller knows
    it (the ``rules`` provider uses it never to rename an applied file).
    """

    root: Path
    settings: Settings
    store: Store | None = None
    environ: Mapping[str, str] = field(default_factory=dict)
    database_url: str | None = None
    pull_request: bool = False


@dataclass(frozen=True)
class ProviderResult:
    """One diagnoser's answer.

    ``diagnosis`` is None when it had nothing; ``reason`` then says why in one
    sentence (no fix known, reply cut off, refused, edits did not validate, …).
    ``reached`` is False only when the provider could not be reached at all
    (connection refused, timeout, missing key): the report exits 4 only when no
    provider was reached. ``raw`` is the provider's raw reply, kept only in the
    store, never printed.
    """

    provider: str
    diagnosis: Diagnosis | None = None
    reason: str = ""
    reached: bool = True
    tokens: int = 0
    raw: str = ""


@dataclass(frozen=True)
class PublishResult:
    """What a publisher did: ``action`` and where (an issue or pull request URL)."""

    publisher: str
    action: Literal["created", "commented", "pull-request", "reviewed", "skipped", "failed"]
    url: str = ""
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class Provider(Protocol):
    """A diagnoser: ``memory``, ``rules``, ``openai``."""

    name: str
    offline: bool

    def outgoing(self, report: BugReport, ctx: ProviderContext) -> dict[str, Any] | None:
        """The exact request body that would leave the machine (None: nothing leaves)."""
        ...

    def diagnose(self, report: BugReport, ctx: ProviderContext) -> ProviderResult:
        """Diagnose the report; never raises for a bad reply (that is a failed result)."""
        ...


class Publisher(Protocol):
    """A publisher: ``github``, ``coderabbit``."""

    name: str

    def outgoing(
        self, report: BugReport, diagnosis: Diagnosis | None, ctx: ProviderContext
    ) -> dict[str, Any] | None:
        """The exact body that would leave the machine (None: nothing leaves)."""
        ...

    def publish(
        self, report: BugReport, diagnosis: Diagnosis | None, ctx: ProviderContext
    ) -> PublishResult:
        """Publish; a failure is a ``failed`` result with a reason, not an exception."""
        ...
