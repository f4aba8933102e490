"""Health checks for cron: ``calctl guard once`` and ``calctl stats``.

- ``checks/``: one module per check type (``http``, ``tcp``, ``postgres``,
  ``migrations``, ``command``, ``log``), each an ``async def check(spec, ctx)``
  returning an :class:`~calctl.guard.model.Outcome`; the configuration and its
  validation are ``calctl.config.checks``.
- ``runner``: every check at once on one event loop, each under its own timeout; a
  check that hangs or raises is that check's failure.
- ``state``: per-check health in the store (consecutive failures, unhealthy since,
  a log check's cursor), so ``fail_after`` and transitions span cron runs.
- ``once``: the command — lock, run, record, events on transitions, webhook, the
  healer's seam, the ``guard-run`` document; ``metrics`` (Prometheus textfile),
  ``notify`` (webhook), ``stats`` (``calctl stats``).
"""
