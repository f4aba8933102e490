"""The settings calctl knows: one frozen dataclass per ``[tool.calctl.<section>]``
table, the top-level keys, and the range every numeric setting must fall in.

Adding a setting is adding a field here (and, when it is a number, its bounds):
files, environment variables (``CALCTL_<SECTION>_<KEY>``), ``config show`` and
``config check`` all read these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    lock_timeout: float = 60.0  # seconds to wait for another applier's advisory lock
    # PostgreSQL's lock_timeout and statement_timeout for each file apply runs, in seconds
    # (0: not set; the server's own applies); a file's own SET comes after and wins
    ddl_lock_timeout: float = 5.0
    statement_timeout: float = 0.0
    database_url: str = ""
    # the order files run in: "auto" (the tool the directory belongs to) or one of
    # MIGRATE_SORTS (calctl.sql.layout says what each means)
    sort: str = "auto"
    rules_docs_url: str = "https://github.com/calctl/calctl/blob/main/docs/rules.md"  # helpUri



LINT_SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class LintSettings:
    """``[tool.calctl.migrate.lint]``: which rules ``migrate lint`` reports, as ruff selects
    them (codes, rule names, squawk's names, prefixes such as ``CAL0``, or ``ALL``)."""

    select: tuple[str, ...] | None = None  # None: the default set (every rule not opt-in)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)  # glob → rules
    severity: dict[str, str] = field(default_factory=dict)  # rule → error|warning|info
    pg_version: int | None = None  # the target's PostgreSQL major version ("13.0" reads 13)



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
    breadcrumbs: int = 20
    cooldown: float = 3600.0
    publish: tuple[str, ...] = ()
    scrub_keys: tuple[str, ...] = ()
    safe_keys: tuple[str, ...] = ()



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
    remote: str = "origin"      # the git remote a pull request's branch is pushed to
    max_retries: int = 3
    max_wait: float = 60.0      # longest rate-limit wait honoured before giving up



@dataclass(frozen=True)
class GuardSettings:
    """``[tool.calctl.guard]``: health checks (each an inline table in ``checks``)."""

    interval: float = 60.0
    default_timeout: float = 10.0
    checks: tuple[dict[str, Any], ...] = ()
    notify_url: str = ""



@dataclass(frozen=True)
class HealSettings:
    """``[tool.calctl.heal]``: the self-healing pipeline's limits."""

    budget_per_hour: int = 5
    dry_run: bool = False
    verify: tuple[str, ...] = ()  # commands a heal's patch must pass, besides [patch] verify



@dataclass(frozen=True)
class DashboardSettings:
    """``[tool.calctl.dashboard]``: the live web page."""

    host: str = "127.0.0.1"
    port: int = 5001
    token_env: str = "CALCTL_DASHBOARD_TOKEN"



SECTIONS: dict[str, type[Any]] = {
    "migrate": MigrateSettings,
    "migrate.lint": LintSettings,  # a table inside [migrate]; Settings.lint
    "patch": PatchSettings,
    "report": ReportSettings,
    "openai": OpenAISettings,
    "github": GitHubSettings,
    "guard": GuardSettings,
    "heal": HealSettings,
    "dashboard": DashboardSettings,
}



def attribute(section: str) -> str:
    """The :class:`~calctl.config.Settings` attribute of a section (``migrate.lint`` →
    ``lint``)."""
    return section.rpartition(".")[2]



# Top-level keys of [tool.calctl] and their types.
TOP_LEVEL: dict[str, Any] = {
    "state_dir": str,
    "store_url": str,  # the audit store (the database to migrate is [migrate] database_url)
}

# Old names of top-level keys, still read (config file and CALCTL_<KEY>) as the new ones.
RENAMED: dict[str, str] = {"database_url": "store_url"}



_DAY = 86_400.0



# Numeric settings and the values that make sense for them: (least, most, is the
# least itself allowed). Anything else is refused with its file and line (exit 2)
# rather than reaching a lock, a subprocess or SQLite as a negative, zero, NaN or
# 64-bit-overflowing number.
BOUNDS: dict[str, tuple[float, float, bool]] = {
    "migrate.lock_timeout": (0, _DAY, True),  # 0: try once, do not wait
    "migrate.lint.pg_version": (9, 99, True),
    "migrate.ddl_lock_timeout": (0, _DAY, True),  # 0: not set
    "migrate.statement_timeout": (0, 7 * _DAY, True),  # 0: not set
    "patch.verify_timeout": (0, 7 * _DAY, False),
    "patch.lock_timeout": (0, _DAY, True),
    "patch.max_edit_bytes": (1, 2**40, True),
    "patch.max_patch_bytes": (1, 2**40, True),
    "patch.max_file_bytes": (1, 2**40, True),
    "report.context_lines": (0, 10_000, True),
    "report.breadcrumbs": (0, 10_000, True),
    "report.cooldown": (0, 365 * _DAY, True),
    "openai.timeout": (0, _DAY, False),
    "openai.max_retries": (0, 100, True),
    "github.timeout": (0, _DAY, False),
    "github.max_retries": (0, 100, True),
    "github.max_wait": (0, _DAY, True),
    "guard.interval": (0, 7 * _DAY, False),
    "guard.default_timeout": (0, _DAY, False),
    "heal.budget_per_hour": (0, 10_000, True),
    "dashboard.port": (1, 65_535, True),
}
