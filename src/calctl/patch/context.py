"""What the patch core needs from the settings, gathered once per command."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from calctl.config import Settings, check_protect
from calctl.errors import CalctlError
from calctl.patch.paths import (
    AppliedMigrations,
    Confinement,
    import_roots,
    protected_patterns,
    verify_targets,
)
from calctl.patch.validate import Limits
from calctl.state import StateDir


@dataclass(frozen=True)
class PatchEnv:
    """Project root, state directory and limits of one project."""

    root: Path
    state: StateDir
    limits: Limits
    lock_timeout: float

    @staticmethod
    def from_settings(settings: Settings, *, lock_timeout: float | None = None) -> PatchEnv:
        p = settings.patch
        return PatchEnv(
            root=settings.root.resolve(),
            state=StateDir(settings.state_dir),
            limits=Limits(p.max_edit_bytes, p.max_patch_bytes, p.max_file_bytes),
            lock_timeout=p.lock_timeout if lock_timeout is None else lock_timeout,
        )


def confinement(settings: Settings, *, allow_protected: bool,
                app_database_url: str | None,
                verify_commands: Sequence[Sequence[str]] = ()) -> Confinement:
    """The path rules of a project: protected globs, config file, applied migrations, and
    the files and modules ``verify_commands`` (argv lists) name."""
    check_protect(settings)
    root = settings.root.resolve()
    config_rel = None
    if settings.config_file is not None:
        try:
            config_rel = settings.config_file.resolve().relative_to(root).as_posix()
        except ValueError:
            config_rel = None
    loader = (lambda: applied_migrations(app_database_url)) if app_database_url else None
    files, modules = verify_targets(verify_commands, root)
    return Confinement(
        root=root,
        state_dir=settings.state_dir,
        protected=protected_patterns(settings.patch.protect, config_rel),
        allow_protected=allow_protected or settings.patch.allow_protected,
        migrations_dir=settings.migrate.dir,
        applied_migrations=loader,
        config_file=config_rel,
        verify_files=files,
        verify_modules=modules,
        import_roots=import_roots(verify_commands, root),
    )


def applied_migrations(url: str) -> AppliedMigrations:
    """Paths recorded in the application database's ``calctl_migrations`` history table.

    Asked only when a patch touches the migrations directory. A database that
    cannot be reached yields an error, and the caller then treats every
    migration file as applied (refusing is the safe side).
    """
    import psycopg

    from calctl.postgres import connect

    try:
        with connect(url, purpose="calctl patch (applied migrations)", connect_timeout=5) as conn:
            exists = conn.execute("SELECT to_regclass('calctl_migrations')").fetchone()
            if not exists or exists[0] is None:
                return AppliedMigrations(frozenset())
            # a file that failed in its own transaction left nothing behind: it may be
            # fixed (its row is replaced when it applies); a non-transactional one may
            # have run in part, so it counts as applied
            try:
                rows = conn.execute("SELECT path FROM calctl_migrations"
                                    " WHERE success OR NOT transactional").fetchall()
            except psycopg.errors.UndefinedColumn:  # a history without those columns
                rows = conn.execute("SELECT path FROM calctl_migrations").fetchall()
    except CalctlError as exc:  # unreachable, or a URL libpq cannot read: password masked
        return AppliedMigrations(error=f"database unavailable: {exc.message}")
    except psycopg.Error as exc:
        from calctl.redact import mask_secrets

        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # the reason is shown and recorded (events, store): never with the password
        return AppliedMigrations(error=f"database unavailable: {mask_secrets(first, url)}")
    return AppliedMigrations(frozenset(str(r[0]) for r in rows))


def app_database_url(settings: Settings) -> str | None:
    """The application database (``DATABASE_URL`` by default), read from the environment."""
    return os.environ.get(settings.migrate.database_url_env) or None
