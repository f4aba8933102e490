"""Annotated option aliases shared by every sub-app, so flags read the same everywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON document on stdout (logs go to stderr).")
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Show what would change; change nothing.")
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite or override a refusal.")]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Config file (default: nearest calctl.toml or pyproject.toml).",
                 show_default=False),
]
StateDirOpt = Annotated[
    Path | None,
    typer.Option("--state-dir", help="State directory (default: .calctl in the project root).",
                 show_default=False),
]
StoreUrlOpt = Annotated[
    str | None,
    typer.Option("--store-url",
                 help="PostgreSQL URL of the audit store (default: SQLite in the state dir; "
                 "also CALCTL_STORE_URL). The database to migrate is `migrate apply "
                 "--database-url`.", show_default=False),
]
# The audit store's old name: refused with a sentence naming both (cli.app.root), hidden from
# --help; it stays an option so that its value is not taken for the command name.
OldDatabaseUrlOpt = Annotated[
    str | None, typer.Option("--database-url", hidden=True, show_default=False),
]
TrustConfigOpt = Annotated[
    bool,
    typer.Option("--trust-config", help="Run what the config file configures even when "
                 "another user owns it or others can write it (also CALCTL_TRUST_CONFIG=1).",
                 show_default=False),
]
VerboseOpt = Annotated[
    int, typer.Option("--verbose", "-v", count=True, metavar="",
                      help="More detail, a counter (-v, -vv): -v shows tracebacks and "
                      "progress.", show_default=False)
]
QuietOpt = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Print nothing when there is nothing to report (for cron); "
    "problems and errors still print. Also after the command name.")]

# ---------------------------------------------------------------- migrations (issue 3)
# Discovery flags every `migrate` command shares; `migrate_overrides` in cli/migrate.py
# turns them into settings overrides.

MigrationDirArg = Annotated[
    Path | None,
    typer.Argument(help="Migration directory (default: \\[migrate] dir, else migrations/).",
                   show_default=False),
]
GlobOpt = Annotated[
    list[str] | None,
    typer.Option("--glob", help="Select files by this pattern instead of *.sql (repeatable).",
                 show_default=False),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude", help="Leave out files matching this pattern (repeatable).",
                 show_default=False),
]
DefineOpt = Annotated[
    list[str] | None,
    typer.Option("--define", help="NAME=VALUE for templated migrations (repeatable).",
                 show_default=False),
]
SearchPathOpt = Annotated[
    str | None,
    typer.Option("--search-path", help="Schemas unqualified names resolve in, comma-separated "
                 "(default: public).", show_default=False),
]
AssumeExistsOpt = Annotated[
    list[str] | None,
    typer.Option("--assume-exists", help="An object created outside the directory, e.g. "
                 "auth.users (repeatable).", show_default=False),
]
SortOpt = Annotated[
    str | None,
    typer.Option("--sort", help="The order files run in: auto (default: the order of the tool "
                 "the directory belongs to, e.g. prisma), natural, lexical, flyway, prisma, "
                 "golang-migrate, goose, dbmate, diesel or sqlx (setting migrate.sort).",
                 show_default=False),
]
