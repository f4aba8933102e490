"""Checking one setting's value against its declared type and range.

Values come from TOML, environment variables (strings, parsed here) and flags; each
is refused with the file and line (or variable, or flag) it came from.
"""

from __future__ import annotations

import math
import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from calctl.config.sections import BOUNDS, LINT_SEVERITIES, MIGRATE_SORTS, SECTIONS, TOP_LEVEL
from calctl.errors import ConfigError
from calctl.redact import mask_dsn


def _type_name(kind: Any) -> str:
    origin = get_origin(kind)
    if origin is tuple:
        item = _type_name(get_args(kind)[0])
        return "a list of " + item.removeprefix("a ").removeprefix("an ") + "s"
    if origin is dict:
        return "a table"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(kind) if a is not type(None))
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))



def check_range(key: str, value: float | None, where: str) -> None:
    """Refuse a command-line value of a numeric setting outside :data:`BOUNDS` (exit 2);
    ``where`` names it (``"--verify-timeout"``)."""
    if value is not None:
        _bounded(key, value, where)



def _bounded(key: str, value: Any, where: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    least, most, inclusive = BOUNDS.get(key, (-math.inf, math.inf, True))
    ok = math.isfinite(value) and (value >= least if inclusive else value > least) \
        and value <= most
    if not ok:
        low = f"at least {least:g}" if inclusive else f"more than {least:g}"
        raise ConfigError(
            f"{where}: setting {key} must be {low} and at most {most:g}, not {value!r}",
            hint="`calctl config show` lists every setting with its current value.",
            code="config-range",
        )
    return value



def coerce(key: str, value: Any, where: str, kind: Any = None) -> Any:
    """Check ``value`` against the declared type and range of ``key``; strings from env
    are parsed."""
    if key == "migrate.lint.pg_version":
        value = pg_major(value, f"{where}: setting {key}")
    value = _bounded(key, _coerce_type(key, value, where, kind), where)
    if key == "migrate.lint.severity" and isinstance(value, dict):
        for rule, severity in value.items():
            if severity not in LINT_SEVERITIES:
                raise ConfigError(f"{where}: setting {key}.{rule} must be one of "
                                  f"{', '.join(LINT_SEVERITIES)}, not {severity!r}",
                                  code="config-value")
    if key == "patch.verify" and isinstance(value, tuple):
        _check_verify(value, where)
    if key == "migrate.sort" and isinstance(value, str) and value not in MIGRATE_SORTS:
        raise ConfigError(f"{where}: setting migrate.sort must be one of "
                          f"{', '.join(MIGRATE_SORTS)}, not {value!r}",
                          hint="auto (the default) uses the order of the tool the "
                          "directory belongs to.", code="config-value")
    return value



def pg_major(value: Any, what: str) -> Any:
    """A PostgreSQL version as its major number: ``13``, ``"13"``, ``"13.0"``, ``"9.6"``
    (squawk's spelling) → 13 (9 for 9.6); ``what`` names the value in the error."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip()
    match = re.fullmatch(r"(\d+)(?:\.\d+){0,2}", text)
    if match is None:
        raise ConfigError(f"{what} must be a PostgreSQL version such as 13 or \"13.0\", "
                          f"not {value!r}", code="config-value")
    return int(match.group(1))



def item_error(key: str, index: int, item: str, where: str, problem: str) -> ConfigError:
    return ConfigError(
        f"{where}: setting {key}[{index}] ({mask_dsn(item)!r}): {problem}",
        hint="Check its quotes and backslashes (TOML strings need \\\\ for one \\).",
        code="config-value")



def _check_verify(commands: tuple[Any, ...], where: str) -> None:
    """A verify command shlex cannot split is refused when the config is read
    (``config check``), not only when a patch is applied."""
    import shlex

    for index, command in enumerate(commands):
        if isinstance(command, str):
            try:
                problem = "" if shlex.split(command) else "it is empty"
            except ValueError as exc:
                problem = f"it cannot be split like a shell would: {exc}"
            if problem:
                raise item_error("patch.verify", index, command, where, problem)



def _coerce_type(key: str, value: Any, where: str, kind: Any = None) -> Any:
    if kind is None:
        kind = _declared_type(key)
    origin = get_origin(kind)
    bad = ConfigError(
        f"{where}: setting {key} must be {_type_name(kind)}, not {value!r}",
        hint="`calctl config show` lists every setting with its current value and type.",
        code="config-type",
    )
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in get_args(kind) if a is not type(None)]
        return coerce(key, value, where, inner[0])
    if origin is tuple:
        item = get_args(kind)[0]
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)):
            raise bad
        if item is Any or get_origin(item) is dict:
            if not all(isinstance(v, dict) for v in value):
                raise bad
            return tuple(value)
        return tuple(coerce(key, v, where, item) for v in value)
    if origin is dict:
        if isinstance(value, str):
            pairs = [p.split("=", 1) for p in value.split(",") if "=" in p]
            value = {k.strip(): v.strip() for k, v in pairs}
        item = get_args(kind)[1] if get_args(kind) else str
        if get_origin(item) is tuple and isinstance(value, dict):  # a table of lists
            return {k: coerce(key, [v] if isinstance(v, str) else v, where, item)
                    for k, v in value.items()}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise bad
        return dict(value)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false",
                                                         "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise bad
    if kind is int:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, int):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        raise bad
    if kind is float:
        if isinstance(value, bool):
            raise bad
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                raise bad from None
        raise bad
    if kind is str:
        if isinstance(value, str):
            return value
        if isinstance(value, Path):
            return str(value)
        raise bad
    return value



def _declared_type(key: str) -> Any:
    if key in TOP_LEVEL:
        return TOP_LEVEL[key]
    section, _, sub = key.rpartition(".")
    if section in SECTIONS:
        hints = get_type_hints(SECTIONS[section])
        if sub in hints:
            return hints[sub]
    raise ConfigError(f"unknown setting {key}", code="config-unknown-key")
