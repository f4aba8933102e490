"""Retrying HTTP requests the way API clients are expected to (an adapter over httpx).

- Retried: 408, 409, 429 and 5xx answers, and a timeout or refused connection;
  never 401/403 (a key or token that does not work will not start working) nor a
  reply the caller marks final (``insufficient_quota``: money, not time, fixes it).
- The wait is the server's when it says: ``retry-after-ms``, then ``Retry-After``
  (seconds or an HTTP date), then GitHub's ``x-ratelimit-reset`` when
  ``x-ratelimit-remaining`` is 0; else capped exponential back-off with full jitter.
- A wait longer than ``max_wait`` is not slept: the request fails at once, saying
  when to try again (a cron run should not hang for an hour).

httpx is imported here only, when a provider that talks HTTP is used.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

RETRY_STATUS = frozenset({408, 409, 429})
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


@dataclass(frozen=True)
class Outcome:
    """The last answer (or why there was none) after the retries."""

    response: httpx.Response | None
    attempts: int
    error: str = ""          # no answer: connection refused, timeout …
    waited: float = 0.0
    too_long: float = 0.0    # the server asked for a wait longer than max_wait


def header_delay(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """The wait a response asks for, in seconds (None: it does not say)."""
    lower = {k.lower(): v for k, v in headers.items()}
    ms = lower.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    after = lower.get("retry-after")
    if after:
        try:
            return max(0.0, float(after))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(after) if after.strip() else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - (now or time.time()))
    if lower.get("x-ratelimit-remaining") == "0" and lower.get("x-ratelimit-reset"):
        try:
            return max(0.0, float(lower["x-ratelimit-reset"]) - (now or time.time()))
        except ValueError:
            return None
    return None


def backoff(attempt: int) -> float:
    """Full jitter on a capped exponential: 0.5 s, 1 s, 2 s … at most 8 s."""
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** attempt))


def send(client: httpx.Client, method: str, url: str, *, max_retries: int,
         json_body: Any = None, params: Mapping[str, str] | None = None,
         retryable: Callable[[httpx.Response], bool] | None = None,
         max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep,
         delay_for: Callable[[httpx.Response], float | None] | None = None) -> Outcome:
    """Send one request, retrying what is worth retrying; never raises for HTTP trouble."""
    import httpx

    waited = 0.0
    attempt = 0
    while True:
        response: httpx.Response | None = None
        error = ""
        try:
            response = client.request(method, url, json=json_body, params=params)
        except httpx.TimeoutException as exc:
            error = f"timed out ({type(exc).__name__})"
        except httpx.TransportError as exc:
            error = f"could not connect ({type(exc).__name__}: {exc})"
        if response is not None and not _retry(response, retryable):
            return Outcome(response, attempt + 1, waited=waited)
        if attempt >= max_retries:
            return Outcome(response, attempt + 1, error=error, waited=waited)
        delay = None
        if response is not None:
            delay = delay_for(response) if delay_for else header_delay(response.headers)
        if delay is None:
            delay = backoff(attempt)
        elif delay > max_wait:
            return Outcome(response, attempt + 1, error=error, waited=waited, too_long=delay)
        sleep(delay)
        waited += delay
        attempt += 1


def default_retryable(response: httpx.Response) -> bool:
    """408, 409, 429 and every 5xx; never 401/403 or another 4xx."""
    status = response.status_code
    return status in RETRY_STATUS or status >= 500


def _retry(response: httpx.Response, retryable: Callable[[httpx.Response], bool] | None) -> bool:
    return (retryable or default_retryable)(response)
