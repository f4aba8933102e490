"""Reading settings from a config file and the environment: TOML, secrets refused,
unknown keys named with their line, every value checked (``values``)."""

from __future__ import annotations

import os
import re
import typing
from inspect import get_annotations  # (loaded already: dataclasses imports it)
from pathlib import Path
from typing import Any, get_type_hints

from calctl.config.sections import RENAMED, SECTIONS, TOP_LEVEL
from calctl.config.values import coerce
from calctl.errors import ConfigError
from calctl.redact import has_credentials

# Shapes of well-known credentials; a config file holding one is refused.
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)



_SECRET_KEY = re.compile(
    r"(api_?key|token|password|passwd|secret|credentials?|authorization|private_?key)$", re.I)



# [[guard.checks]] headers = {Authorization = "WEB_TOKEN"}: the value is a variable's name
_HEADER_ENV = re.compile(r"guard\.checks\[\d+\]\.headers\.[^.]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")



def read_config(path: Path) -> tuple[dict[str, Any], str, os.stat_result]:
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())  # the file read, not whatever is there later
            raw = handle.read()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: config file is not valid UTF-8") from exc
    import tomllib  # here: most runs read no config file (tomllib and datetime: ~1 ms)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: TOML syntax error: {exc}",
            hint="Fix the line named above; TOML strings need quotes.",
        ) from exc
    except RecursionError:  # arrays or tables nested thousands deep
        raise ConfigError(f"{path}: config file is nested too deeply to read",
                          hint="calctl's settings nest at most a few levels.") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("calctl", {}) if isinstance(tool, dict) else {}
        return (table if isinstance(table, dict) else {}), text, info
    return data, text, info



def _table_prefix(path: Path) -> list[str]:
    return ["tool", "calctl"] if path.name == "pyproject.toml" else []



def locate(path: Path, text: str, table: list[str], key: str) -> int | None:
    """Best-effort line number of ``key`` inside TOML table ``table`` (for messages)."""
    want = _table_prefix(path) + table
    current: list[str] = []
    key_re = re.compile(r'^\s*"?' + re.escape(key) + r'"?\s*=')
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$", line)
        if header:
            current = [part.strip().strip('"') for part in header.group(1).split(".")]
            continue
        if current == want and key_re.match(line):
            return number
    # a whole table such as [bogus]
    header_re = re.compile(r"^\s*\[\[?\s*" + re.escape(".".join([*want, key])) + r"\s*\]")
    for number, line in enumerate(text.splitlines(), start=1):
        if header_re.match(line):
            return number
    # dotted keys such as `migrate.dir = …` directly under [tool.calctl]
    dotted = ".".join([*table, key])
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(r"^\s*" + re.escape(dotted) + r"\s*=", line):
            return number
    return None



def _where(path: Path, text: str, table: list[str], key: str) -> str:
    line = locate(path, text, table, key)
    return f"{path}:{line}" if line else str(path)



def check_secrets(path: Path, text: str, table: dict[str, Any]) -> None:
    """Refuse a secret held literally anywhere in the file: under a key named like
    one, shaped like a known credential, or a URL / libpq string with a password —
    in any value, inside lists and tables too, and in the keys of a table."""
    _check_secret_keys(path, text, table)
    for keys, dotted, value in _leaves(table, [], ""):
        name = keys[-1] if keys else ""
        if _HEADER_ENV.fullmatch(dotted) and isinstance(value, str) \
                and _ENV_NAME.fullmatch(value):
            continue  # a guard check's header names the variable holding its value
        literal = False
        if isinstance(value, str):
            literal = bool(value) and (bool(_SECRET_KEY.search(name))
                                       or bool(_SECRET_VALUE.search(value))
                                       or has_credentials(value))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            literal = bool(_SECRET_KEY.search(name))
        if literal:
            raise ConfigError(
                f"{_line_of(path, text, keys, value)}: setting {dotted} holds a secret "
                "literally",
                hint="Put the secret in an environment variable and name it with a *_env "
                "setting (for example api_key_env = \"OPENAI_API_KEY\"); a database URL "
                "takes its password from PGPASSWORD or ~/.pgpass.",
                code="config-secret",
            )



def _check_secret_keys(path: Path, text: str, table: dict[str, Any]) -> None:
    """``defines = {"postgresql://u:pw@h/db" = "x"}``: a key is shown as much as a value."""
    todo: list[tuple[Any, str]] = [(table, "")]
    while todo:
        value, dotted = todo.pop()
        items = value.items() if isinstance(value, dict) else \
            enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            if isinstance(key, str) and (has_credentials(key) or _SECRET_VALUE.search(key)):
                where = next((f"{path}:{n}" for n, line in
                              enumerate(text.splitlines(), start=1) if key in line), str(path))
                raise ConfigError(
                    f"{where}: a key of setting {dotted or 'at the top level'} holds a secret "
                    "literally",  # the key itself is not shown: a token has no mask
                    hint="A secret belongs in an environment variable, never in a key or "
                    "value of the config file.", code="config-secret")
            sub = f"{dotted}[{key}]" if isinstance(key, int) else \
                (f"{dotted}.{key}" if dotted else str(key))
            todo.append((item, sub))



def _leaves(value: Any, keys: list[str],
            dotted: str) -> typing.Iterator[tuple[list[str], str, Any]]:
    """(keys leading to it, dotted name with [i] for list items, value) of every scalar."""
    if isinstance(value, dict):
        for sub, item in value.items():
            yield from _leaves(item, [*keys, str(sub)], f"{dotted}.{sub}" if dotted else sub)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, keys, f"{dotted}[{index}]")
    else:
        yield keys, dotted, value



def _line_of(path: Path, text: str, keys: list[str], value: Any) -> str:
    """``file:line`` of a value: the line holding it literally, else the nearest key's."""
    if isinstance(value, str) and value:
        for number, line in enumerate(text.splitlines(), start=1):
            if value in line:
                return f"{path}:{number}"
    for depth in range(len(keys) - 1, -1, -1):
        found = locate(path, text, keys[:depth], keys[depth])
        if found:
            return f"{path}:{found}"
    return str(path)



def collect_file(
    path: Path, text: str, table: dict[str, Any], values: dict[str, Any], sources: dict[str, str]
) -> None:
    for key, value in table.items():
        if key in SECTIONS:
            _collect_section(path, text, key, value, values, sources)
        elif key in TOP_LEVEL or key in RENAMED:
            where = _where(path, text, [], key)
            new = RENAMED.get(key, key)
            values[new] = coerce(new, value, where, TOP_LEVEL[new])
            sources[new] = where + (f" ({key}, the old name of {new})" if new != key else "")
        else:
            raise ConfigError(
                f"{_where(path, text, [], key)}: unknown setting {key}",
                hint=_suggest(key, [*TOP_LEVEL, *(s for s in SECTIONS if "." not in s)]),
                code="config-unknown-key",
            )



def _collect_section(path: Path, text: str, key: str, value: Any, values: dict[str, Any],
                     sources: dict[str, str]) -> None:
    """One section's table; ``key`` is dotted for a table inside another section's
    (``migrate.lint`` is ``[migrate.lint]``)."""
    table = key.split(".")
    if not isinstance(value, dict):
        raise ConfigError(f"{_where(path, text, table[:-1], table[-1])}: {key} must be a table")
    hints = get_type_hints(SECTIONS[key])
    inner = [s.rpartition(".")[2] for s in SECTIONS if s.rpartition(".")[0] == key]
    for sub, subvalue in value.items():
        dotted = f"{key}.{sub}"
        if sub in inner:
            _collect_section(path, text, dotted, subvalue, values, sources)
            continue
        where = _where(path, text, table, sub)
        if sub not in hints:
            raise ConfigError(
                f"{where}: unknown setting {dotted}",
                hint=_suggest(sub, [*hints, *inner]),
                code="config-unknown-key",
            )
        values[dotted] = coerce(dotted, subvalue, where, hints[sub])
        if dotted == "guard.checks":  # only configs with checks import their schema
            from calctl.config.checks import validate_checks

            validate_checks(values[dotted], where, path=path, text=text)
        sources[dotted] = where



def _suggest(key: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"Did you mean {close[0]}?"
    return "Known settings: " + ", ".join(sorted(known))



def collect_env(
    env: typing.Mapping[str, str], values: dict[str, Any], sources: dict[str, str]
) -> None:
    # an old name first, so that the new one wins when both are set
    for key, kind in [*((old, TOP_LEVEL[new]) for old, new in RENAMED.items()),
                      *TOP_LEVEL.items()]:
        name = f"CALCTL_{key.upper()}"
        if env.get(name):
            new = RENAMED.get(key, key)
            values[new] = coerce(new, env[name], f"environment variable {name}", kind)
            sources[new] = f"env {name}"
    for section, cls in SECTIONS.items():
        # the names get_type_hints(cls) has, in its order, without evaluating every
        # annotation (an eval each: ~80 per run, in both processes of a forked analysis);
        # the types only of the settings the environment sets
        names = dict.fromkeys(sub for base in reversed(cls.__mro__)
                              for sub in get_annotations(base))
        for sub in names:
            name = f"CALCTL_{section.upper().replace('.', '_')}_{sub.upper()}"
            if name in env and env[name] != "":
                dotted = f"{section}.{sub}"
                kind = get_type_hints(cls)[sub]
                values[dotted] = coerce(dotted, env[name], f"environment variable {name}", kind)
                if dotted == "guard.checks":
                    from calctl.config.checks import validate_checks

                    validate_checks(values[dotted], f"environment variable {name}")
                sources[dotted] = f"env {name}"
