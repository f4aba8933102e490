"""What a check returns, and what it is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from calctl.config import Settings


@dataclass(frozen=True)
class Outcome:
    """One check's result: ``ok``, and when not, the error and where it points.

    ``file``/``line``/``traceback``/``data``/``hint``/``sqlstate`` become the
    ``finding`` of an unhealthy check (``data`` is what a diagnoser needs beyond the
    text, e.g. a migration's kind and path); ``detail`` is shown in the result only.
    ``cursor`` is what the check wants back next run (a log's inode and offset)."""

    ok: bool
    error: str = ""
    file: str | None = None
    line: int | None = None
    traceback: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    hint: str = ""
    sqlstate: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    cursor: str | None = None


class CheckContext:
    """What every check may use: the settings, the project root, the previous cursor
    of each check, and one HTTP client shared by all ``http`` checks (made on first
    use, so a run without one never imports httpx)."""

    def __init__(self, settings: Settings, cursors: dict[str, str | None] | None = None) -> None:
        self.settings = settings
        self.root: Path = settings.root
        self.cursors = cursors or {}
        self._http: httpx.AsyncClient | None = None
        # set by the runner: whether any http check's URL is https (only then are the
        # CA certificates loaded, a fifth of a second)
        self.tls = True

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(
                follow_redirects=False, verify=self.tls,  # no https URL: nothing to verify
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None
