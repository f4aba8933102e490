"""Settings, resolved once per process.

Sources, lowest first: built-in defaults, ``calctl.toml`` or ``[tool.calctl]`` in
the nearest ``pyproject.toml`` (searched upward from the working directory; the
directory holding it is the project root), ``CALCTL_*`` environment variables,
command-line flags. Every value remembers where it came from (``config show``).

Secrets never live here: settings only *name* the environment variable that holds
one (``api_key_env = "OPENAI_API_KEY"``), and :func:`secret` reads it when needed.
A config file that holds a secret literally — anywhere, in a list or table too — is
refused.

Trust: a config file is read by every command, but one that another user owns, that
group or others may write, or whose directory others may write to is *untrusted*
(:attr:`Settings.config_untrusted`). Reading commands still use it (GitLab's checkout
is mode 666 under umask 0); commands that would run what it configures, or act on
paths it chooses, unattended call :meth:`Settings.require_trusted_config` first,
which refuses unless the user passed ``--trust-config`` / ``CALCTL_TRUST_CONFIG=1``.
"""

from __future__ import annotations

import math
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
from calctl.redact import has_credentials
from calctl.redact import mask_dsn as mask_dsn  # re-exported: its old home

CONFIG_FILENAME = "calctl.toml"
STATE_DIRNAME = ".calctl"


MIGRATE_SORTS = ("auto", "natural", "lexical", "flyway", "prisma", "golang-migrate", "goose",
                 "dbmate", "diesel", "sqlx")


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
    # the order files run in: "auto" (the tool the directory belongs to) or one of
    # MIGRATE_SORTS (calctl.sql.layout says what each means)
    sort: str = "auto"


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
    # Why the config file is not trusted ("" = trusted, or no file), and whether the
    # user vouched for it anyway (--trust-config / CALCTL_TRUST_CONFIG=1).
    config_untrusted: str = ""
    trust_config: bool = False

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

    def from_config_file(self, key: str) -> bool:
        """Did the config file set ``key`` (dotted), rather than a default, env or flag?"""
        source = self.sources.get(key, "")
        return self.config_file is not None and source.startswith(str(self.config_file))

    def require_trusted_config(self, purpose: str) -> None:
        """Refuse (ConfigError, exit 2) to ``purpose`` — e.g. "run its [patch] verify
        commands" — on the strength of a config file calctl does not trust.

        The one check every command that runs configured commands or acts on
        config-chosen paths unattended (patch apply, guard, heal) makes first.
        """
        if self.config_file is None or not self.config_untrusted or self.trust_config:
            return
        raise ConfigError(
            f"refusing to {purpose} from config file {self.config_file}: "
            f"{self.config_untrusted}",
            hint="Whoever can write that file could make calctl run commands as you. "
            "If the checkout is yours (a CI job that owns it), pass --trust-config or set "
            "CALCTL_TRUST_CONFIG=1; otherwise chown it to yourself and chmod go-w it.",
            code="config-untrusted",
        )

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
                value = _mask_value(getattr(obj, f.name))
                rows.append((key, value, self.sources.get(key, "default")))
        return rows


def _mask_value(value: Any) -> Any:
    """``value`` with every password masked, however deep (env values are not checked
    for secrets, but are shown)."""
    if isinstance(value, str):
        return mask_dsn(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_mask_value(v) for v in value)
    if isinstance(value, dict):
        return {k: _mask_value(v) for k, v in value.items()}
    return value


def secret(env_name: str, env: typing.Mapping[str, str] | None = None) -> str | None:
    """Read a secret from the environment variable a setting names (never from a file)."""
    value = (os.environ if env is None else env).get(env_name, "")
    return value or None


# Shapes of well-known credentials; a config file holding one is refused.
_SECRET_VALUE = re.compile(
    r"(sk-[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"
)
_SECRET_KEY = re.compile(
    r"(api_?key|token|password|passwd|secret|credentials?|authorization|private_?key)$", re.I)


def find_project(cwd: Path) -> tuple[Path, Path | None]:
    """Return (project root, config file or None), searching upward from ``cwd``.

    The search ends at a shared scratch directory (world-writable and sticky, like
    /tmp): a marker there counts only if it is ours (or root's), so a calctl.toml
    another user left in /tmp never becomes the config of a run in /tmp/x.
    """
    here = cwd.resolve()
    for directory in (here, *here.parents):
        shared = is_shared_scratch(directory)
        for name in (CONFIG_FILENAME, "pyproject.toml"):
            candidate = directory / name
            if candidate.is_file() and not (shared and not _owned_by_us(candidate)):
                return directory, candidate
        git = directory / ".git"
        if git.exists() and not (shared and not _owned_by_us(git)):
            return directory, None
        if shared:
            break
    return here, None


def is_shared_scratch(directory: str | Path) -> bool:
    """World-writable and sticky, like /tmp: anyone may leave a file there."""
    try:
        mode = os.stat(directory).st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IWOTH and mode & stat.S_ISVTX)


def _trusted_owner(uid: int) -> bool:
    """Files of this user, or of root (whom every user trusts anyway)."""
    return uid in (os.geteuid(), 0)


def _owned_by_us(path: Path) -> bool:
    try:
        return _trusted_owner(path.lstat().st_uid)
    except OSError:
        return False


def _owner_name(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (KeyError, ImportError):
        return f"uid {uid}"


def _untrusted_reason(path: Path, info: os.stat_result) -> str:
    """Why calctl should not run what ``path`` configures ("" when it may).

    ``info`` is the fstat of the descriptor the config was read from, so the check
    and the content are of the same file."""
    if not _trusted_owner(info.st_uid):
        return (f"it is owned by {_owner_name(info.st_uid)}, not by you "
                f"({_owner_name(os.geteuid())})")
    mode = stat.S_IMODE(info.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"it is writable by group or others (mode {mode:o})"
    parent = path.parent
    try:
        dinfo = parent.stat()
    except OSError:
        return f"its directory {parent} cannot be checked"
    if not _trusted_owner(dinfo.st_uid):
        return f"its directory {parent} is owned by {_owner_name(dinfo.st_uid)}"
    dmode = dinfo.st_mode
    if dmode & (stat.S_IWGRP | stat.S_IWOTH) and not dmode & stat.S_ISVTX:
        # others may replace the file by another of their choosing
        return (f"its directory {parent} is writable by group or others "
                f"(mode {stat.S_IMODE(dmode):o})")
    return ""


def _env_flag(env: typing.Mapping[str, str], name: str) -> bool:
    return env.get(name, "").strip().lower() in ("1", "true", "yes", "on")


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
    untrusted = ""
    if config_file is not None:
        table, text, info = _read_config(config_file)
        _check_secrets(config_file, text, table)
        _collect_file(config_file, text, table, values, sources)
        if config_file.name != "pyproject.toml" or table:
            untrusted = _untrusted_reason(config_file, info)
    trust = bool(flags.get("trust_config")) or _env_flag(env, "CALCTL_TRUST_CONFIG")
    _collect_env(env, values, sources)
    for key, value in flags.items():
        if key in ("config", "verbose", "quiet", "trust_config") or value is None:
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
    # A config file — even one of ours: a cloned repository's is — may not send calctl's
    # writes (state_dir) outside its project, nor an untrusted one its reads (migrate.dir);
    # the user's own --state-dir / CALCTL_STATE_DIR, or --trust-config, may.
    if not trust and config_file is not None:
        if sources.get("state_dir", "").startswith(str(config_file)):
            _confine(state_dir, "state_dir", root, config_file, sources["state_dir"],
                     untrusted)
        if untrusted and sources.get("migrate.dir", "").startswith(str(config_file)):
            _confine(root / sections["migrate"].dir, "[migrate] dir", root, config_file,
                     sources["migrate.dir"], untrusted)
    return Settings(
        root=root,
        config_file=config_file,
        state_dir=state_dir,
        database_url=values.get("database_url") or None,
        verbose=int(flags.get("verbose") or 0),
        quiet=bool(flags.get("quiet")),
        sources=sources,
        config_untrusted=untrusted,
        trust_config=trust,
        **sections,
    )


def _confine(path: Path, key: str, root: Path, config_file: Path, where: str,
             untrusted: str) -> None:
    """A path a config file chose must resolve inside the file's project.

    Inside it, a state directory it chose is harmless: everything calctl reads back
    from one is sealed with the user's key (calctl.trust), so planted files are inert.
    """
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        why = (f"config file {config_file} is not trusted: {untrusted}" if untrusted else
               "a config file (a cloned repository's too) chooses paths inside its project "
               "only")
        raise ConfigError(
            f"{where}: {key} {path} resolves outside the project {root}, and {why}",
            hint=("Pass --state-dir, or " if key == "state_dir" else "Pass ")
            + "--trust-config (CALCTL_TRUST_CONFIG=1) if the file is yours to trust.",
            code="config-untrusted",
        ) from None


def _read_config(path: Path) -> tuple[dict[str, Any], str, os.stat_result]:
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


def _check_secrets(path: Path, text: str, table: dict[str, Any]) -> None:
    """Refuse a secret held literally anywhere in the file: under a key named like
    one, shaped like a known credential, or a URL / libpq string with a password —
    in any value, inside lists and tables too, and in the keys of a table."""
    _check_secret_keys(path, text, table)
    for keys, dotted, value in _leaves(table, [], ""):
        name = keys[-1] if keys else ""
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


_DAY = 86_400.0

# Numeric settings and the values that make sense for them: (least, most, is the
# least itself allowed). Anything else is refused with its file and line (exit 2)
# rather than reaching a lock, a subprocess or SQLite as a negative, zero, NaN or
# 64-bit-overflowing number.
BOUNDS: dict[str, tuple[float, float, bool]] = {
    "migrate.lock_timeout": (0, _DAY, True),  # 0: try once, do not wait
    "patch.verify_timeout": (0, 7 * _DAY, False),
    "patch.lock_timeout": (0, _DAY, True),
    "patch.max_edit_bytes": (1, 2**40, True),
    "patch.max_patch_bytes": (1, 2**40, True),
    "patch.max_file_bytes": (1, 2**40, True),
    "report.context_lines": (0, 10_000, True),
    "openai.timeout": (0, _DAY, False),
    "openai.max_retries": (0, 100, True),
    "github.timeout": (0, _DAY, False),
    "guard.interval": (0, 7 * _DAY, False),
    "guard.default_timeout": (0, _DAY, False),
    "heal.budget_per_hour": (0, 10_000, True),
    "dashboard.port": (1, 65_535, True),
}


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


def _coerce(key: str, value: Any, where: str, kind: Any = None) -> Any:
    """Check ``value`` against the declared type and range of ``key``; strings from env
    are parsed."""
    value = _bounded(key, _coerce_type(key, value, where, kind), where)
    if key == "patch.verify" and isinstance(value, tuple):
        _check_verify(value, where)
    if key == "migrate.sort" and isinstance(value, str) and value not in MIGRATE_SORTS:
        raise ConfigError(f"{where}: setting migrate.sort must be one of "
                          f"{', '.join(MIGRATE_SORTS)}, not {value!r}",
                          hint="auto (the default) uses the order of the tool the "
                          "directory belongs to.", code="config-value")
    return value


def _item_error(key: str, index: int, item: str, where: str, problem: str) -> ConfigError:
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
                raise _item_error("patch.verify", index, command, where, problem)


def check_protect(settings: Settings) -> None:
    """Refuse a ``[patch] protect`` glob pathspec cannot compile (exit 2, not a crash when
    a patch is checked). Called by ``config check`` and before a patch is checked, not
    on every load: importing pathspec costs ~60 ms."""
    globs = [g for g in settings.patch.protect if g.strip() and not g.startswith("!")]
    if not globs:
        return
    from pathspec import PathSpec

    where = settings.sources.get("patch.protect", "[patch] protect")
    if where.startswith("env "):
        where = "environment variable " + where[4:]
    for index, glob in enumerate(settings.patch.protect):
        if glob in globs:
            try:
                PathSpec.from_lines("gitignore", [glob])
            except ValueError as exc:
                raise _item_error("patch.protect", index, glob, where,
                                  f"it is not a valid gitignore pattern: {exc}") from None


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
# sort = "auto"                  # file order: auto (the tool's), natural, prisma, flyway …

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
