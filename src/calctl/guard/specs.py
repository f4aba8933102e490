"""The configured checks as :class:`~calctl.config.checks.CheckSpec`, defaults filled in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from calctl.config.checks import TYPES, CheckSpec, validate_checks

if TYPE_CHECKING:
    from calctl.config import Settings


def check_specs(settings: Settings) -> list[CheckSpec]:
    """The configured checks, validated, with defaults (timeout from ``[guard]
    default_timeout``, a migrations check's dir and URL variable from ``[migrate]``)."""
    specs = []
    for raw in validate_checks(settings.guard.checks,
                               settings.sources.get("guard.checks", "[guard] checks")):
        options = {key: raw.get(key, default) for key, (_, default) in TYPES[raw["type"]].items()}
        if raw["type"] == "migrations":
            options["dir"] = options["dir"] or settings.migrate.dir
            options["database_url_env"] = (options["database_url_env"]
                                           or settings.migrate.database_url_env)
        if raw["type"] == "command" and isinstance(options["run"], str):
            import shlex

            options["run"] = shlex.split(options["run"])
        timeout = raw.get("timeout")
        specs.append(CheckSpec(
            name=raw["name"], type=raw["type"],
            timeout=float(timeout) if timeout is not None else settings.guard.default_timeout,
            fail_after=int(raw.get("fail_after", 1)), heal=bool(raw.get("heal", False)),
            severity=str(raw.get("severity", "error")), options=options))
    return specs
