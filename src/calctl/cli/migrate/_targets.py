"""The paths ``migrate order`` and ``migrate lint`` take: a migration directory, or files.

pre-commit (and editors, and ``git diff --name-only | xargs``) pass the files that
changed, not the directory. Ordering is a property of the whole directory, so a file
stands for the migration directory it belongs to, and each directory is checked once:

- the configured ``[migrate] dir`` when the file lies under it;
- else, when ``[migrate] dir`` was not set (the default ``migrations/``), the nearest
  folder above the file named like a migration directory (``migrations``, ``migrate``:
  Prisma's and diesel's folder-per-migration layouts), else the file's own folder;
- a file that is not SQL, that no longer exists, or that lies outside a ``[migrate] dir``
  the settings name, is left out with a note on stderr.

A directory argument is used as it is (today's ``migrate order DIR``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calctl.config import Settings


# Folder names a migration directory has in the tools calctl reads (Prisma, diesel,
# Rails-style db/migrate): the folder of a folder-per-migration file is one level down.
_DIRECTORY_NAMES = ("migrations", "migration", "migrate")


def migration_targets(settings: Settings, default: Path,
                      paths: Sequence[Path] | None) -> list[Path]:
    """The migration directories ``paths`` name (``[default]`` when none are given), each
    once and in the order first named; notes on stderr for the files left out."""
    if not paths:
        return [default]
    configured = _real(default)
    explicit = "migrate.dir" in settings.sources
    targets: dict[str, Path] = {}
    notes: list[str] = []
    for path in paths:
        directory = _directory_of(path, default, configured, explicit, settings.root, notes)
        if directory is not None:
            targets.setdefault(_real(directory), directory)
    if notes and not settings.quiet:
        from calctl.output import err_console

        for note in notes:
            err_console().print(f"calctl: {note}", markup=False)
    return list(targets.values())


def _directory_of(path: Path, default: Path, configured: str, explicit: bool,
                  root: Path, notes: list[str]) -> Path | None:
    if path.is_dir() or (not path.exists() and path.suffix.lower() != ".sql"):
        return path  # a directory, or what discovery will say does not exist
    if path.suffix.lower() != ".sql":
        notes.append(f"{path}: not an SQL file, left out")
        return None
    if not path.is_file():
        notes.append(f"{path}: no such file, left out")
        return None
    real = _real(path)
    if _inside(real, configured):
        return default
    if explicit:
        from calctl.sql.discovery import shown_path

        notes.append(f"{path}: outside the migration directory {shown_path(str(default))}, "
                     "left out")
        return None
    return _nearest_migration_folder(path, root)


def _nearest_migration_folder(path: Path, root: Path) -> Path:
    """The nearest folder above ``path`` (within the project) named like a migration
    directory, else ``path``'s own folder."""
    top = _real(root)
    folder = path.parent
    for candidate in (folder, *folder.parents):
        real = _real(candidate)
        if not _inside(real, top):
            break
        if candidate.name.lower() in _DIRECTORY_NAMES:
            return candidate
    return folder


def _real(path: Path) -> str:
    return os.path.realpath(path)


def _inside(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip(os.sep) + os.sep)


def check_one(targets: Sequence[Path], fmt: str) -> None:
    """A document format (JSON, SARIF, …) holds one directory's result: refuse more, or
    none (text and GitHub annotations simply say nothing)."""
    if len(targets) == 1 or fmt in ("text", "github"):
        return
    from calctl.errors import UsageError

    if not targets:
        raise UsageError(f"none of the files named is a migration, and --format {fmt} "
                         "prints one directory's result",
                         hint="Name a migration directory or a file in one.")
    shown = ", ".join(str(t) for t in targets)
    raise UsageError(
        f"the files named belong to {len(targets)} migration directories ({shown}), "
        f"and --format {fmt} prints one directory's result",
        hint="Run the command once per directory, or use --format text or github.")


def each_target(settings: Settings, default: Path, paths: Sequence[Path] | None,
                fmt: str) -> Iterator[Path]:
    """The directories to check, after :func:`check_one`."""
    targets = migration_targets(settings, default, paths)
    check_one(targets, fmt)
    yield from targets
