"""Which migration files a target database has applied, read from its history.

``migrate lint --database-url`` asks it so that tables created by files the target
has not applied yet count as new (nobody reads or writes them), and ``migrate lint
--fix`` so that it never edits a file the target has applied. The history is the one
``migrate status`` reads: ``calctl_migrations`` and, when that table does not exist
yet (or with ``adopt``), the history table of the directory's tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

    from calctl.config import MigrateSettings
    from calctl.migrate.history import History
    from calctl.sql.discovery import MigrationFile


def applied_paths(url: str, directory: Path, settings: MigrateSettings,
                  files: Sequence[MigrationFile] | None = None, *,
                  adopt: bool = False) -> frozenset[str]:
    """Paths (relative to ``directory``) of the files the database at ``url`` has
    applied.

    A file whose last attempt failed counts as applied only when it ran outside a
    transaction (part of it may have run); one that failed in its own transaction left
    nothing behind. An unreachable database is an ExternalError (exit 4), a history the
    directory's tool would refuse a StateError (exit 3), as for ``migrate status``.
    """
    from calctl.migrate.engine import adopted_history
    from calctl.migrate.history import History
    from calctl.migrate.units import Unit
    from calctl.postgres import connect
    from calctl.sql.discovery import discover
    from calctl.sql.layout import detect

    if files is None:
        files = discover(directory, globs=settings.glob, exclude=settings.exclude,
                         sort=settings.sort)
    paths = [f.path for f in files]
    conn = connect(url, purpose="calctl migrate lint (applied files)")
    try:
        history = History(conn)
        done = _recorded(conn, history)
        tools = detect(str(directory), paths, [f.raw for f in files], settings.sort).tools
        units = [Unit(f, i, "", "") for i, f in enumerate(files)]
        foreign = adopted_history(conn, history, units, tools, adopt)
    finally:
        conn.close()
    if foreign is not None:
        done |= set(foreign.applied)
    return frozenset(done)


def _recorded(conn: psycopg.Connection[Any], history: History) -> set[str]:
    """The paths of calctl's history that count as applied (see :func:`applied_paths`)."""
    import psycopg

    if not history.exists():
        return set()
    try:
        rows = conn.execute(f"SELECT path FROM {history.table}"
                            " WHERE success OR NOT transactional").fetchall()
    except psycopg.errors.UndefinedColumn:  # a history from before that column
        rows = conn.execute(f"SELECT path FROM {history.table}").fetchall()
    return {str(r[0]) for r in rows}
