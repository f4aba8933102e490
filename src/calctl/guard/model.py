"""What a check returns, and what it is given."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import ssl

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


def import_httpx() -> ModuleType:
    """httpx, without its command-line module: ``import httpx`` also imports
    ``httpx._main`` (rich, pygments, click) when they are installed, as they are with
    calctl — a third of httpx's import, for a CLI calctl never calls."""
    import sys

    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
        try:
            import httpx  # noqa: F401  (httpx falls back to a stub main())
        finally:
            if sys.modules.get("httpx._main") is None:
                del sys.modules["httpx._main"]
    return sys.modules["httpx"]


class CheckContext:
    """What every check may use: the settings, the project root, the previous cursor
    of each check, and HTTP clients (httpx imported on first use only).

    Each ``http`` check gets its own client, all sharing one TLS context: one client's
    connection pool walks every connection for every request it assigns, which made 50
    concurrent checks on one client cost ~0.5 s of CPU; a client on a shared context
    costs well under a millisecond."""

    def __init__(self, settings: Settings, cursors: dict[str, str | None] | None = None) -> None:
        self.settings = settings
        self.root: Path = settings.root
        self.cursors = cursors or {}
        self._clients: list[httpx.AsyncClient] = []
        self._tls: ssl.SSLContext | None = None
        # set by the runner: whether any http check's URL is https (only then are the
        # CA certificates loaded, a fifth of a second)
        self.tls = True

    def http(self) -> httpx.AsyncClient:
        lib = import_httpx()
        if self._tls is None:
            if self.tls:
                self._tls = lib.create_ssl_context()
            else:  # no https URL and no redirects followed: this context never verifies
                import ssl

                self._tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client: httpx.AsyncClient = lib.AsyncClient(follow_redirects=False, verify=self._tls)
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients = []
