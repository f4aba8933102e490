"""The audit store: one interface, SQLite (default) or PostgreSQL backends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from calctl.store.base import Store

if TYPE_CHECKING:
    from calctl.config import Settings

__all__ = ["Store", "open_store"]


def open_store(settings: Settings) -> Store:
    """Open (and migrate) the store the settings point at.

    PostgreSQL when a store URL is set (``--store-url``, ``CALCTL_STORE_URL``),
    else SQLite at ``<state dir>/calctl.db``.
    """
    from calctl.state import StateDir

    state = StateDir(settings.state_dir)
    if settings.store_url:
        from calctl.store.postgres import PostgresStore

        store: Store = PostgresStore(settings.store_url)
    else:
        from calctl.store.sqlite import SqliteStore

        state.ensure()
        store = SqliteStore(state.db_path, lock_dir=state.locks)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
