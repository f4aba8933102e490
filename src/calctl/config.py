"""Settings, resolved once per process.

Sources, lowest first: built-in defaults, ``calctl.toml`` or ``[tool.calctl]`` in
the nearest ``pyproject.toml`` (searched upward from the working directory; the
directory holding it is the project root), ``CALCTL_*`` environment variables,
command-line flags. Every value remembers where it came from (``config show``).

Secrets never live here: settings only *name* the environment variable that holds
one (``api_key_env = "OPENAI_API_KEY"``), and :func:`secret` reads it when needed.
A config file that holds a secret literally is refused.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from calctl.errors import ConfigError

CONFIG_FILENAME = "calctl.toml"
STATE_DIRNAME = ".calctl"


@dataclass(frozen=True)
class MigrateSettings:
    """``[tool.calctl.migrate]``: where migrations live and how they are read and applied."""

    dir: str = "migrations"
    glob: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    search_path: tuple[str, ...] = ("public",)
    known_objects: tuple[str, ...] = ()
    defines: dict[str, str] = field(default_factory=dict)
    database_url_env: str = "DATABASE_URL"
    lock_timeout: float = 60.0
    database_url: str = ""


@dataclass(frozen=True)
class PatchSettings:
    """``[tool.calctl.patch]``: how patches are verified and what they may touch."""

    verify: tuple[str, ...] = ()
    verify_timeout: float = 600.0
    allow_protected: bool = False
    git: bool = False
    git_branch: bool = False
    max_edit_bytes: int = 1_000_000
    max_patch_bytes: int = 5_000_000
    max_file_bytes: int = 20_000_000
    lock_timeout: float = 60.0
    protect: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReportSettings:
    """``[tool.calctl.report]``: how bug reports are built and who diagnoses them."""

    service: str = ""
    context_lines: int = 5
    providers: tuple[str, ...] = ("memory", "rules")


@dataclass(frozen=True)
class OpenAISettings:
    """``[tool.calctl.openai]``: any OpenAI-compatible chat completions endpoint."""

    base_url: str = "https://api.openai.com/v1"
    model: str = "gpt-4o-mini"
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 60.0
    max_retries: int = 3


@dataclass(frozen=True)
class GitHubSettings:
    """``[tool.calctl.github]``: issues and pull requests on one repository."""

    repo: str = ""
    api_url: str = "https://api.github.com"
    token_env: str = "GITHUB_TOKEN"
    timeout: float = 30.0


@dataclass(frozen=True)
class GuardSettings:
    """``[tool.calctl.guard]``: health checks (each an inline table in ``checks``)."""

    interval: float = 60.0
    default_timeout: float = 10.0
    checks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class HealSettings:
    """``[tool.calctl.heal]``: the self-healing pipeline's limits."""

    budget_per_hour: int = 5
    dry_run: bool = False


@dataclass(frozen=True)
class DashboardSettings:
    """``[tool.calctl.dashboard]``: the live web page."""

    host: str = "127.0.0.1"
    port: int = 5001
    token_env: str = "CALCTL_DASHBOARD_TOKEN"


SECTIONS: dict[str, type[Any]] = {
    "migrate": MigrateSettings,
    "patch": PatchSettings,
    "report": ReportSettings,
    "openai": OpenAISettings,
    "github": GitHubSettings,
    "guard": GuardSettings,
    "heal": HealSettings,
    "dashboard": DashboardSettings,
}

# Top-level keys of [tool.calctl] and their types.
TOP_LEVEL: dict[str, Any] = {
    "state_dir": str,
    "database_url": str,
}


@dataclass(frozen=True)
class Settings:
    """Every resolved setting, plus where each came from (``sources``)."""

    root: Path
    config_file: Path | None
    state_dir: Path
    database_url: str | None = None
    verbose: int = 0
    quiet: bool = False
    migrate: MigrateSettings = field(default_factory=MigrateSettings)
    patch: PatchSettings = field(default_factory=PatchSettings)
    report: ReportSettings = field(default_factory=ReportSettings)
    openai: OpenAISettings = field(default_factory=OpenAISettings)
    github: GitHubSettings = field(default_factory=GitHubSettings)
    guard: GuardSettings = field(default_factory=GuardSettings)
    heal: HealSettings = field(default_factory=HealSettings)
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @staticmethod
    def resolve(
        flags: dict[str, Any] | None = None,
        *,
        cwd: Path | None = None,
        env: typing.Mapping[str, str] | None = None,
    ) -> Settings:
        """Build the settings from defaults, config file, environment and ``flags``.

        ``flags`` maps dotted keys (``"state_dir"``, ``"migrate.dir"``) to values;
        ``None`` values are ignored so unset options do not override anything.
        """
        return _resolve(flags or {}, cwd or Path.cwd(), os.environ if env is None else env)

    def items(self) -> list[tuple[str, Any, str]]:
        """Every setting as (dotted key, value, source), for ``config show``."""
        rows: list[tuple[str, Any, str]] = [
            ("root", str(self.root), "discovered"),
            ("config_file", str(self.config_file) if self.config_file else None, "discovered"),
            ("state_dir", str(self.state_dir), self.sources.get("state_dir", "default")),
            (
                "database_url",
                mask_dsn(self.database_url) if self.database_url else None,
                self.sources.get("database_url", "default"),
            ),
        ]
        for section in SECTIONS:
            obj = getattr(self, section)
            for f in fields(obj):
                key = f"{section}.{f.name}"
                rows.append((key, getattr(obj, f.name), self.sources.get(key, "default")))
        return rows


def secret(env_name: str, env: typing.Mapping[str, str] | None = None) -> str | None:
    """Read a secret from the environment variable a setting names (never from a file)."""
    value = (os.environ if env is None else env).get(env_name, "")
    return value or None


_DSN_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)", re.I)
_DSN_KV_PASSWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I)


def mask_dsn(text: str) -> str:
    """Replace the password in a database URL (or libpq key=value string) with ``***``."""
    text = _DSN_PASSWORD.sub(lambda m: m.group("head") + ("***" if m.group("pw") else ""), text)
    return _DSN_KV_PASSWORD.sub(r"\1***", text)


# Shapes of well-known credentials; a config file holding one is refused.
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)
_SECRET_KEY = re.compile(r"(api_?key|token|password|passwd|secret)$", re.I)


def find_project(cwd: Path) -> tuple[Path, Path | None]:
    """Return (project root, config file or None), searching upward from ``cwd``."""
    here = cwd.resolve()
    for directory in (here, *here.parents):
        candidate = directory / CONFIG_FILENAME
        if candidate.is_file():
            return directory, candidate
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            return directory, pyproject
        if (directory / ".git").exists():
            return directory, None
    return here, None


def _resolve(flags: dict[str, Any], cwd: Path, env: typing.Mapping[str, str]) -> Settings:
    explicit = flags.get("config")
    if explicit:
        config_file: Path | None = Path(explicit).resolve()
        assert config_file is not None
        if not config_file.is_file():
            raise ConfigError(
                f"config file {explicit} does not exist",
                hint="Pass an existing file to --config, or run `calctl init`.",
            )
        root = config_file.parent
    else:
        root, config_file = find_project(cwd)

    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if config_file is not None:
        table, text = _read_config(config_file)
        _check_secrets(config_file, text, table, [])
        _collect_file(config_file, text, table, values, sources)
        if config_file.name != "pyproject.toml" or table:
            _check_permissions(config_file)
    _collect_env(env, values, sources)
    for key, value in flags.items():
        if key in ("config", "verbose", "quiet") or value is None:
            continue
        values[key] = _coerce(key, value, f"flag for {key}")
        sources[key] = "flag"

    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        kwargs = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(name + ".")}
        sections[name] = cls(**kwargs)

    state_dir = Path(values.get("state_dir", STATE_DIRNAME))
    if not state_dir.is_absolute():
        state_dir = root / state_dir
    return Settings(
        root=root,
        config_file=config_file,
        state_dir=state_dir,
        database_url=values.get("database_url") or None,
        verbose=int(flags.get("verbose") or 0),
        quiet=bool(flags.get("quiet")),
        sources=sources,
        **sections,
    )


def _read_config(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: config file is not valid UTF-8") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: TOML syntax error: {exc}",
            hint="Fix the line named above; TOML strings need quotes.",
        ) from exc
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("calctl", {}) if isinstance(tool, dict) else {}
        return (table if isinstance(table, dict) else {}), text
    return data, text


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


def _check_secrets(path: Path, text: str, table: dict[str, Any], prefix: list[str]) -> None:
    for key, value in table.items():
        if isinstance(value, dict):
            _check_secrets(path, text, value, [*prefix, key])
            continue
        dotted = ".".join([*prefix, key])
        literal = False
        if isinstance(value, str) and value:
            literal = bool(_SECRET_KEY.search(key)) or bool(_SECRET_VALUE.search(value))
            if key.endswith("url") and mask_dsn(value) != value:
                literal = True
        if literal:
            raise ConfigError(
                f"{_where(path, text, prefix, key)}: setting {dotted} holds a secret literally",
                hint="Put the secret in an environment variable and name it with a *_env "
                "setting (for example api_key_env = \"OPENAI_API_KEY\").",
                code="config-secret",
            )


def _check_permissions(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(
            f"config file {path} is writable by group or others (mode {stat.S_IMODE(mode):o})",
            hint=f"Anyone who can write it can make calctl run commands: chmod go-w {path}",
            code="config-permissions",
        )


def _collect_file(
    path: Path, text: str, table: dict[str, Any], values: dict[str, Any], sources: dict[str, str]
) -> None:
    for key, value in table.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{_where(path, text, [], key)}: {key} must be a table")
            hints = get_type_hints(SECTIONS[key])
            for sub, subvalue in value.items():
                dotted = f"{key}.{sub}"
                where = _where(path, text, [key], sub)
                if sub not in hints:
                    raise ConfigError(
                        f"{where}: unknown setting {dotted}",
                        hint=_suggest(sub, list(hints)),
                        code="config-unknown-key",
                    )
                values[dotted] = _coerce(dotted, subvalue, where, hints[sub])
                sources[dotted] = where
        elif key in TOP_LEVEL:
            where = _where(path, text, [], key)
            values[key] = _coerce(key, value, where, TOP_LEVEL[key])
            sources[key] = where
        else:
            raise ConfigError(
                f"{_where(path, text, [], key)}: unknown setting {key}",
                hint=_suggest(key, [*TOP_LEVEL, *SECTIONS]),
                code="config-unknown-key",
            )


def _suggest(key: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"Did you mean {close[0]}?"
    return "Known settings: " + ", ".join(sorted(known))


def _collect_env(
    env: typing.Mapping[str, str], values: dict[str, Any], sources: dict[str, str]
) -> None:
    for key, kind in TOP_LEVEL.items():
        name = f"CALCTL_{key.upper()}"
        if env.get(name):
            values[key] = _coerce(key, env[name], f"environment variable {name}", kind)
            sources[key] = f"env {name}"
    for section, cls in SECTIONS.items():
        for sub, kind in get_type_hints(cls).items():
            name = f"CALCTL_{section.upper()}_{sub.upper()}"
            if name in env and env[name] != "":
                dotted = f"{section}.{sub}"
                values[dotted] = _coerce(dotted, env[name], f"environment variable {name}", kind)
                sources[dotted] = f"env {name}"


def _type_name(kind: Any) -> str:
    origin = get_origin(kind)
    if origin is tuple:
        return "a list of " + _type_name(get_args(kind)[0]) + "s"
    if origin is dict:
        return "a table"
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(kind) if a is not type(None))
    names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
    return names.get(kind, getattr(kind, "__name__", str(kind)))


def _coerce(key: str, value: Any, where: str, kind: Any = None) -> Any:
    """Check ``value`` against the declared type of ``key``; strings from env are parsed."""
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
        return _coerce(key, value, where, inner[0])
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
        return tuple(_coerce(key, v, where, item) for v in value)
    if origin is dict:
        if isinstance(value, str):
            pairs = [p.split("=", 1) for p in value.split(",") if "=" in p]
            value = {k.strip(): v.strip() for k, v in pairs}
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
    section, _, sub = key.partition(".")
    if section in SECTIONS:
        hints = get_type_hints(SECTIONS[section])
        if sub in hints:
            return hints[sub]
    raise ConfigError(f"unknown setting {key}", code="config-unknown-key")


DEFAULT_CONFIG = '''\
# calctl configuration. Every key is optional; `calctl config show` lists the
# resolved values and where each came from. Secrets never go here: settings
# ending in _env name the environment variable that holds one.

# state_dir = ".calctl"          # audit store, events, snapshots, journals, locks
# database_url = "postgresql://calctl@db.example/calctl"   # shared audit store
#                                 # (password from PGPASSWORD or ~/.pgpass; or set
#                                 #  CALCTL_DATABASE_URL in the environment)

[migrate]
dir = "migrations"               # where the *.sql migrations live
# search_path = ["public"]
# known_objects = ["auth.users"] # objects created outside the directory
# defines = { Namespace = "app" } # values for templated migrations
database_url_env = "DATABASE_URL" # the application database, read from this variable
# lock_timeout = 60

[patch]
# verify = ["pytest -x -q"]      # commands that must pass after a patch
# verify_timeout = 600
# allow_protected = false        # may a patch touch tests, CI files, applied migrations?
# git = false                    # commit each verified patch

[report]
# service = "my-app"
# context_lines = 5
# providers = ["memory", "rules"]  # add "openai" and/or "github"

[openai]
# base_url = "http://127.0.0.1:11434/v1"   # any OpenAI-compatible endpoint
# model = "gpt-4o-mini"
api_key_env = "OPENAI_API_KEY"

[github]
# repo = "owner/name"
token_env = "GITHUB_TOKEN"

[guard]
# interval = 60
# checks = [
#   { name = "api", type = "http", url = "http://127.0.0.1:8000/health" },
# ]

[dashboard]
# host = "127.0.0.1"
# port = 5001
'''
