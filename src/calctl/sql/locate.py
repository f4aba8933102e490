"""Where a project keeps its migrations when no setting says: the directories the tools
calctl reads (:mod:`calctl.sql.layout`) create by default. ``calctl init`` writes the one
it finds into the config it creates."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

# In the order they are tried: the first that holds a migration wins.
CANDIDATES = (
    "migrations",                        # golang-migrate, goose, sqlx, diesel, node-pg-migrate
    "db/migrations",                     # dbmate, Rails-style projects
    "db/migration",                      # Flyway
    "src/main/resources/db/migration",   # Flyway's Maven and Gradle default
    "prisma/migrations",                 # Prisma
    "supabase/migrations",               # Supabase
    "sql/migrations",
    "database/migrations",
    "migrations/sql",
)


class Found(NamedTuple):
    """A migration directory: relative to the project root, its layout (the order, e.g.
    ``prisma``; ``natural`` for none), and how many migrations it holds."""

    directory: str
    order: str
    files: int


def find_migration_directory(root: Path) -> Found | None:
    """The first of :data:`CANDIDATES` under ``root`` that holds a migration calctl reads
    (as ``migrate order`` discovers them), or None."""
    from calctl.errors import UsageError
    from calctl.sql.discovery import discover_layout

    for candidate in CANDIDATES:
        directory = root / candidate
        if not directory.is_dir() or directory.is_symlink():
            continue
        try:
            files, layout = discover_layout(directory)
        except UsageError:  # empty, unreadable: not this one
            continue
        if files:
            return Found(candidate, layout.order, len(files))
    return None
