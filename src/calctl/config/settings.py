"""The resolved :class:`Settings` and how they are resolved: project discovery,
then defaults < config file < environment < flags, with the trust rules of
``calctl.config`` applied to what a config file may choose."""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from calctl.config.files import check_secrets, collect_env, collect_file, read_config
from calctl.config.owners import is_shared_scratch, owned_by_us, untrusted_reason
from calctl.config.sections import (
    CONFIG_FILENAME,
    SECTIONS,
    STATE_DIRNAME,
    DashboardSettings,
    GitHubSettings,
    GuardSettings,
    HealSettings,
    LintSettings,
    MigrateSettings,
    OpenAISettings,
    PatchSettings,
    ReportSettings,
    attribute,
)
from calctl.config.values import coerce, item_error
from calctl.errors import ConfigError
from calctl.redact import mask_dsn


@dataclass(frozen=True)
class Settings:
    """Every resolved setting, plus where each came from (``sources``)."""

    root: Path
    config_file: Path | None
    state_dir: Path
    store_url: str | None = None  # the audit store (--store-url, CALCTL_STORE_URL)
    verbose: int = 0
    quiet: bool = False
    migrate: MigrateSettings = field(default_factory=MigrateSettings)
    lint: LintSettings = field(default_factory=LintSettings)  # [migrate.lint]
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
                "store_url",
                mask_dsn(self.store_url) if self.store_url else None,
                self.sources.get("store_url", "default"),
            ),
        ]
        for section in SECTIONS:
            obj = getattr(self, attribute(section))
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
            if candidate.is_file() and not (shared and not owned_by_us(candidate)):
                return directory, candidate
        git = directory / ".git"
        if git.exists() and not (shared and not owned_by_us(git)):
            return directory, None
        if shared:
            break
    return here, None



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
        table, text, info = read_config(config_file)
        check_secrets(config_file, text, table)
        collect_file(config_file, text, table, values, sources)
        if config_file.name != "pyproject.toml" or table:
            untrusted = untrusted_reason(config_file, info)
    trust = bool(flags.get("trust_config")) or _env_flag(env, "CALCTL_TRUST_CONFIG")
    collect_env(env, values, sources)
    for key, value in flags.items():
        if key in ("config", "verbose", "quiet", "trust_config") or value is None:
            continue
        values[key] = coerce(key, value, f"flag for {key}")
        sources[key] = "flag"

    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        kwargs = {k.rpartition(".")[2]: v for k, v in values.items()
                  if k.rpartition(".")[0] == name}
        sections[attribute(name)] = cls(**kwargs)

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
        store_url=values.get("store_url") or None,
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



def check_protect(settings: Settings) -> None:
    """Refuse a ``[patch] protect`` glob git cannot read (exit 2, not a crash when a patch
    is checked). Called by ``config check`` and before a patch is checked, not on every
    load: importing pathspec costs tens of milliseconds."""
    _check_patterns(settings, "patch.protect",
                    [g for g in settings.patch.protect if g.strip() and not g.startswith("!")])


def check_globs(settings: Settings) -> None:
    """Every path glob of the settings (``config check``): all are gitignore lines
    (:mod:`calctl.globs`)."""
    check_protect(settings)
    _check_patterns(settings, "migrate.glob", list(settings.migrate.glob))
    _check_patterns(settings, "migrate.exclude", list(settings.migrate.exclude))


def _check_patterns(settings: Settings, key: str, globs: list[str]) -> None:
    if not globs:
        return
    from calctl.globs import pattern_error

    section, name = key.split(".")
    where = settings.sources.get(key, f"[{section}] {name}")
    if where.startswith("env "):
        where = "environment variable " + where[4:]
    for index, glob in enumerate(getattr(getattr(settings, section), name)):
        error = pattern_error(glob) if glob in globs else ""
        if error:
            raise item_error(key, index, glob, where, error)
