"""``[guard] notify_url``: a webhook POSTed on every transition, as Monit alerts do.

Each notice is one JSON object (``{"kind": "guard-notice", "type": "guard.check.failed",
"check", "error", "ts", …}``) sent from a daemon thread while the run goes on; a
failed delivery is retried briefly (3 tries, 0.5 s apart, 5 s timeout each) and then
dropped with a warning — a dead webhook never fails nor holds the run: at its end the
run waits at most :data:`WAIT` seconds for deliveries still in flight.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from calctl.output import plural
from calctl.redact import mask_dsn

TRIES = 3
PAUSE = 0.5
TIMEOUT = 5.0
WAIT = 3.0


class Notifier:
    def __init__(self, url: str) -> None:
        self.url = url
        self.threads: list[threading.Thread] = []
        self.failures: list[str] = []

    def send(self, notice: dict[str, Any]) -> None:
        thread = threading.Thread(target=self._deliver, args=(notice,), daemon=True,
                                  name="calctl-guard-notify")
        thread.start()
        self.threads.append(thread)

    def _deliver(self, notice: dict[str, Any]) -> None:
        from calctl.guard.model import import_httpx

        httpx = import_httpx()

        problem = ""
        for attempt in range(TRIES):
            try:
                response = httpx.post(self.url, json=notice, timeout=TIMEOUT)
                if response.status_code < 400:
                    return
                problem = f"HTTP {response.status_code}"
                if 400 <= response.status_code < 500 and response.status_code != 429:
                    break  # the peer refuses this notice; asking again changes nothing
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if attempt + 1 < TRIES:
                time.sleep(PAUSE)
        self.failures.append(f"webhook {mask_dsn(self.url)}: {notice.get('type')} "
                             f"not delivered ({problem})")

    def wait(self, seconds: float = WAIT) -> list[str]:
        """Wait (at most ``seconds`` in all) for deliveries in flight; the failures."""
        deadline = time.monotonic() + seconds
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        pending = sum(t.is_alive() for t in self.threads)
        if pending:
            return [*self.failures, f"webhook {mask_dsn(self.url)}: {plural(pending, 'notice')} "
                    "still in flight were abandoned"]
        return list(self.failures)
