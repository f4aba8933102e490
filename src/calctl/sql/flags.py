"""The discovery flags every ``migrate`` command shares, applied to settings.

Pure functions, so the command line (``cli/migrate/``) and the analysis started
before the command line is parsed (``sql/early.py``) read the flags the same way.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.errors import UsageError

if TYPE_CHECKING:
    from calctl.config import Settings


def migrate_overrides(*, glob: list[str] | None = None, exclude: list[str] | None = None,
                      search_path: str | None = None, sort: str | None = None,
                      ) -> dict[str, Any]:
    """Settings overrides (dotted keys) for the flags that Settings.resolve takes."""
    overrides: dict[str, Any] = {}
    if sort is not None:
        from calctl.sql.layout import check_sort

        overrides["migrate.sort"] = check_sort(sort, "--sort")
    if glob:
        overrides["migrate.glob"] = tuple(glob)
    if exclude:
        overrides["migrate.exclude"] = tuple(exclude)
    if search_path is not None:
        schemas = tuple(s.strip() for s in search_path.split(",") if s.strip())
        if not schemas:
            raise UsageError("--search-path needs at least one schema name",
                             hint="For example --search-path app,public")
        overrides["migrate.search_path"] = schemas
    return overrides


def with_migrate_flags(settings: Settings, directory: Path | None, *,
                       define: list[str] | None = None,
                       assume_exists: list[str] | None = None) -> tuple[Settings, Path]:
    """``settings`` with --define/--assume-exists added, and the migration directory
    (the argument, else ``[migrate] dir`` under the project root)."""
    migrate = settings.migrate
    if define:
        defines = dict(migrate.defines)
        for item in define:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise UsageError(f"--define {item!r} is not NAME=VALUE",
                                 hint="For example --define Namespace=app")
            defines[name.strip()] = value
        migrate = replace(migrate, defines=defines)
    if assume_exists:
        migrate = replace(migrate, known_objects=(*migrate.known_objects, *assume_exists))
    settings = replace(settings, migrate=migrate)
    return settings, migration_directory(settings, directory)


def migration_directory(settings: Settings, argument: Path | None) -> Path:
    """The migration directory: the argument as given, else ``[migrate] dir`` under the
    project root (an absolute ``dir`` stays as it is). The one place that works it out,
    for every ``migrate`` command and for the early analysis."""
    if argument is not None:
        return argument
    return settings.root / settings.migrate.dir
