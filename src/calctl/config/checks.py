"""The health checks of ``[[guard.checks]]``: what each type takes, and validation.

Each check is a table with a ``type`` (``http``, ``tcp``, ``postgres``, ``migrations``,
``command``, ``log``), the common keys (``name``, unique; ``timeout``, default ``[guard]
default_timeout``; ``fail_after``, consecutive failures before it counts as unhealthy,
default 1; ``heal``; ``severity``) and its type's own keys. Settings hold the tables as
written (``config show`` prints them so); :func:`validate_checks` refuses a bad one when
the config is read, naming the file and line, the check and the key (exit 2), and
:func:`calctl.guard.specs.check_specs` turns them into :class:`CheckSpec`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calctl.errors import ConfigError

REQUIRED = object()

# A traceback's first line, or a line holding ERROR/CRITICAL/FATAL as a word.
DEFAULT_LOG_PATTERN = r"Traceback \(most recent call last\)|\b(ERROR|CRITICAL|FATAL)\b"

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# key -> (kind, default): kind is a Python type, "status" (int, list of ints or
# "200-399" ranges), "argv" (list of strings or one string split with shlex), "env"
# (an environment variable's name), "regex", "headers" ({header = "ENV_NAME"}) or a
# tuple of allowed strings.
COMMON: dict[str, tuple[Any, Any]] = {
    "name": (str, REQUIRED),
    "type": (str, REQUIRED),
    "timeout": (float, None),
    "fail_after": (int, 1),
    "heal": (bool, False),
    "severity": (("critical", "error", "warning", "info"), "error"),
}

TYPES: dict[str, dict[str, tuple[Any, Any]]] = {
    "http": {"url": (str, REQUIRED), "method": (str, "GET"), "expect_status": ("status", None),
             "expect_body": ("regex", ""), "headers": ("headers", {})},
    "tcp": {"host": (str, "127.0.0.1"), "port": (int, REQUIRED)},
    "postgres": {"database_url_env": ("env", "DATABASE_URL"), "query": (str, "select 1")},
    "migrations": {"dir": (str, ""), "database_url_env": ("env", ""),
                   "pending": (("warn", "fail"), "warn"), "apply": (bool, False)},
    "command": {"run": ("argv", REQUIRED), "expect_exit": (int, 0), "cwd": (str, "")},
    "log": {"path": (str, REQUIRED), "pattern": ("regex", DEFAULT_LOG_PATTERN)},
}

_BOUNDS = {"timeout": (0.0, 86_400.0), "fail_after": (1, 1_000_000), "port": (1, 65_535),
           "expect_exit": (0, 255)}


@dataclass(frozen=True)
class CheckSpec:
    """One configured check with every default filled in."""

    name: str
    type: str
    timeout: float
    fail_after: int = 1
    heal: bool = False
    severity: str = "error"
    options: dict[str, Any] = field(default_factory=dict)


def validate_checks(checks: Any, where: str, *, path: Path | None = None,
                    text: str | None = None) -> list[dict[str, Any]]:
    """Refuse a check with an unknown type or key, a missing or ill-typed value, or a
    name used twice (ConfigError, exit 2, naming the check and the key); the tables
    otherwise. ``path`` and ``text`` (the config file) give each key its own line."""
    seen: set[str] = set()
    out = []
    for index, raw in enumerate(checks):
        label = f"guard check {index + 1}"
        if isinstance(raw, dict) and isinstance(raw.get("name"), str) and raw["name"]:
            label = f"guard check {raw['name']!r}"

        def fail(key: str, problem: str, hint: str = "", *, _i: int = index,
                 _label: str = label) -> ConfigError:
            line = _line(path, text, _i, key) if path and text else None
            at = f"{path}:{line}" if line else where
            return ConfigError(f"{at}: {_label}: {problem}", hint=hint or
                               "docs/guard.md lists every check type and its keys.",
                               code="config-check")

        if not isinstance(raw, dict):
            raise fail("", "must be a table")
        kind = raw.get("type")
        if kind not in TYPES:
            raise fail("type", "key type must be one of " + ", ".join(TYPES)
                       + f", not {kind!r}")
        known = {**COMMON, **TYPES[kind]}
        for key in raw:
            if key not in known:
                import difflib

                close = difflib.get_close_matches(str(key), list(known), n=1)
                raise fail(str(key), f"unknown key {key!r} for a {kind} check",
                           f"Did you mean {close[0]}?" if close else
                           "Keys of a " + kind + " check: " + ", ".join(known))
        for key, (spec, default) in known.items():
            if key not in raw:
                if default is REQUIRED:
                    raise fail("", f"key {key} is required for a {kind} check")
                continue
            problem = _problem(key, spec, raw[key])
            if problem:
                raise fail(key, f"key {key} {problem}")
        if raw["name"] in seen:
            raise fail("name", f"name {raw['name']!r} is used by two checks",
                       "Give every check its own name: its state is kept under it.")
        seen.add(raw["name"])
        out.append(raw)
    return out


def _problem(key: str, spec: Any, value: Any) -> str:
    """What is wrong with ``value`` for ``key`` ("" when nothing)."""
    shown = repr(value)[:80]
    if isinstance(spec, tuple):
        return "" if value in spec else f"must be one of {', '.join(spec)}, not {shown}"
    if spec is bool:
        return "" if isinstance(value, bool) else f"must be true or false, not {shown}"
    if spec in (int, float):
        number = isinstance(value, int) or (spec is float and isinstance(value, float))
        if isinstance(value, bool) or not number:
            return f"must be {'an integer' if spec is int else 'a number'}, not {shown}"
        low, high = _BOUNDS.get(key, (-math.inf, math.inf))
        inclusive = key != "timeout"
        if not math.isfinite(value) or value > high or \
                (value < low if inclusive else value <= low):
            return f"must be {'at least' if inclusive else 'more than'} {low:g} and at most " \
                   f"{high:g}, not {shown}"
        return ""
    if spec is str:
        if not isinstance(value, str) or (key in ("name", "url", "path", "query", "host")
                                          and not value.strip()):
            return f"must be a non-empty string, not {shown}"
        return ""
    if spec == "env":
        return "" if isinstance(value, str) and _ENV_NAME.fullmatch(value) else \
            f"must name an environment variable, not {shown}"
    if spec == "regex":
        if not isinstance(value, str):
            return f"must be a regular expression (a string), not {shown}"
        try:
            re.compile(value)
        except re.error as exc:
            return f"is not a valid regular expression: {exc}"
        return ""
    if spec == "headers":
        if not isinstance(value, dict) or not all(
                isinstance(v, str) and _ENV_NAME.fullmatch(v) for v in value.values()):
            return ("must be a table of header = \"ENV_VARIABLE\" (each value names the "
                    f"environment variable holding the header's value), not {shown}")
        return ""
    if spec == "argv":
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return ""
        if isinstance(value, str):
            import shlex

            try:
                return "" if shlex.split(value) else "must not be empty"
            except ValueError as exc:
                return f"cannot be split like a shell would: {exc}"
        return f"must be a list of strings or one command line, not {shown}"
    if spec == "status":
        return "" if status_set(value) is not None else \
            f"must be an HTTP status, a list of them, or a range such as \"200-399\", not {shown}"
    return ""


def status_set(value: Any) -> frozenset[int] | None:
    """The statuses ``expect_status`` allows (None when it is not a valid value); no
    value means 200-399."""
    if value is None:
        return frozenset(range(200, 400))
    items = value if isinstance(value, list) else [value]
    allowed: set[int] = set()
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and 100 <= item <= 599:
            allowed.add(item)
            continue
        m = re.fullmatch(r"\s*(\d{3})\s*-\s*(\d{3})\s*", item) if isinstance(item, str) else None
        if m is None or not 100 <= int(m.group(1)) <= int(m.group(2)) <= 599:
            return None
        allowed.update(range(int(m.group(1)), int(m.group(2)) + 1))
    return frozenset(allowed) if allowed else None


_HEADER = re.compile(r"^\s*\[\[\s*(tool\s*\.\s*calctl\s*\.\s*)?guard\s*\.\s*checks\s*\]\]")
_ANY_HEADER = re.compile(r"^\s*\[")


def _line(path: Path, text: str, index: int, key: str) -> int | None:
    """Line of ``key`` in the ``index``-th ``[[guard.checks]]`` table (its header when
    ``key`` is empty or not found); None for an inline array."""
    lines = text.splitlines()
    starts = [n for n, line in enumerate(lines) if _HEADER.match(line)]
    if index >= len(starts):
        return None
    start = starts[index]
    if key:
        key_re = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
        for n in range(start + 1, len(lines)):
            if _ANY_HEADER.match(lines[n]):
                break
            if key_re.match(lines[n]):
                return n + 1
    return start + 1
