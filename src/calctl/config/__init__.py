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

The package: ``sections`` declares every setting, ``values`` checks one value,
``files`` reads a config file and the environment, ``owners`` decides whose file it
is, ``settings`` resolves them into :class:`Settings`, ``template`` is what
``calctl init`` writes.
"""

from __future__ import annotations

from calctl.config.files import locate
from calctl.config.owners import is_shared_scratch
from calctl.config.sections import (
    BOUNDS,
    CONFIG_FILENAME,
    MIGRATE_SORTS,
    SECTIONS,
    STATE_DIRNAME,
    TOP_LEVEL,
    DashboardSettings,
    GitHubSettings,
    GuardSettings,
    HealSettings,
    LintSettings,
    MigrateSettings,
    OpenAISettings,
    PatchSettings,
    ReportSettings,
)
from calctl.config.settings import Settings, check_globs, check_protect, find_project, secret
from calctl.config.template import DEFAULT_CONFIG, default_config
from calctl.config.values import check_range, pg_major
from calctl.redact import mask_dsn as mask_dsn  # re-exported: its old home

__all__ = [
    "BOUNDS",
    "CONFIG_FILENAME",
    "DEFAULT_CONFIG",
    "MIGRATE_SORTS",
    "SECTIONS",
    "STATE_DIRNAME",
    "TOP_LEVEL",
    "DashboardSettings",
    "GitHubSettings",
    "GuardSettings",
    "HealSettings",
    "LintSettings",
    "MigrateSettings",
    "OpenAISettings",
    "PatchSettings",
    "ReportSettings",
    "Settings",
    "check_globs",
    "check_protect",
    "check_range",
    "default_config",
    "find_project",
    "is_shared_scratch",
    "locate",
    "mask_dsn",
    "pg_major",
    "secret",
]
