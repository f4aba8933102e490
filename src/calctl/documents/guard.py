"""Documents of ``guard once`` and ``stats``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from calctl.documents.base import Document, Record
from calctl.documents.finding import Finding

CheckStatus = Literal["healthy", "failing", "unhealthy"]


@dataclass(frozen=True)
class CheckResult(Record):
    """One check of one run.

    ``ok`` is this run's outcome; ``status`` counts ``fail_after``: ``failing`` is a
    failure below the threshold (recorded, not yet unhealthy), ``unhealthy`` one at or
    past it, and only an unhealthy check carries a ``finding``. ``transition`` is
    ``failed`` or ``recovered`` when this run changed the check's health.
    """

    name: str
    type: str
    ok: bool
    status: CheckStatus
    duration: float = 0.0
    error: str = ""
    consecutive_failures: int = 0
    fail_after: int = 1
    severity: str = "error"
    transition: Literal["", "failed", "recovered"] = ""
    detail: dict[str, Any] = field(default_factory=dict)
    finding: Finding | None = None


@dataclass(frozen=True)
class GuardRun(Document):
    """What ``guard once`` found: every check's result, and what healing did.

    ``heal`` holds the healer's outcomes (one object per healed check: check,
    outcome, …) when ``--heal`` ran; ``healthy`` is true when every check is."""

    KIND: ClassVar[str] = "guard-run"

    ts: str
    healthy: bool
    checks: list[CheckResult] = field(default_factory=list)
    duration: float = 0.0
    heal: list[dict[str, Any]] = field(default_factory=list)

    @property
    def findings(self) -> list[Finding]:
        return [c.finding for c in self.checks if c.finding is not None]


@dataclass(frozen=True)
class StatsRow(Record):
    """Heal figures of one provider or one check."""

    name: str
    runs: int = 0
    verified: int = 0
    failed: int = 0
    heal_rate: float = 0.0
    mean_time_to_repair: float | None = None
    replayed: int = 0


@dataclass(frozen=True)
class HealStats(Document):
    """``calctl stats``: how well the project heals, and what it has learned."""

    KIND: ClassVar[str] = "heal-stats"

    runs: int = 0
    verified: int = 0
    failed: int = 0
    rolled_back: int = 0
    no_fix: int = 0
    skipped: int = 0
    heal_rate: float = 0.0
    mean_time_to_repair: float | None = None
    fixes_learned: int = 0
    fixes_replayed: int = 0
    fixes_forgotten: int = 0
    level: int = 0
    providers: list[StatsRow] = field(default_factory=list)
    checks: list[StatsRow] = field(default_factory=list)
