"""Where a patch may write: confinement to the project root, and protected paths.

A path is checked twice: as written (no absolute path, no ``..`` leaving the
root, nothing under ``.git``) and after resolving symlinks (the real file must
still be inside the root and outside ``.git`` and the state directory).

Protected paths are the ones verification relies on — tests, CI files, calctl's
config and migrations already recorded as applied — so a patch cannot make its
own verification pass by editing the judge.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DEFAULT_PROTECTED: tuple[str, ...] = (
    "tests/**",
    "**/tests/**",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    ".github/**",
    ".ci/**",
    ".gitlab-ci.yml",
    "calctl.toml",
)


class PathRefused(Exception):
    """A path an edit may not touch; the message is the reason shown to the user."""


@dataclass(frozen=True)
class AppliedMigrations:
    """Names of migrations the application database records as applied (or why unknown)."""

    names: frozenset[str] = frozenset()
    error: str | None = None


@dataclass
class Confinement:
    """The rules for one project: root, state directory, protected globs."""

    root: Path
    state_dir: Path
    protected: tuple[str, ...] = DEFAULT_PROTECTED
    allow_protected: bool = False
    migrations_dir: str = "migrations"
    applied_migrations: Callable[[], AppliedMigrations] | None = None
    _applied: AppliedMigrations | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.state_dir = self.state_dir.resolve()

    def resolve(self, given: str, *, must_not_be_link: bool = False) -> tuple[str, Path]:
        """``(relative posix path of the real file, absolute real path)`` or PathRefused."""
        if not given or "\x00" in given:
            raise PathRefused(f"path {given!r} is empty or holds a NUL byte")
        if given.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", given) or given == "~" \
                or given.startswith("~/"):
            raise PathRefused(f"{given}: absolute paths are refused; give it relative to the "
                              "project root")
        norm = posixpath.normpath(given.replace("\\", "/"))
        if norm == ".." or norm.startswith("../"):
            raise PathRefused(f"{given}: leaves the project root (..)")
        if norm in (".", ""):
            raise PathRefused(f"{given}: names the project root, not a file")
        if ".git" in norm.split("/"):
            raise PathRefused(f"{given}: files under .git/ are never patched")
        lexical = self.root / norm
        if must_not_be_link and lexical.is_symlink():
            raise PathRefused(f"{given}: is a symbolic link; calctl does not create, delete or "
                              "rename links")
        real = lexical.resolve()
        try:
            rel = real.relative_to(self.root)
        except ValueError:
            raise PathRefused(f"{given}: resolves through a symbolic link to {real}, outside "
                              "the project root") from None
        if ".git" in rel.parts:
            raise PathRefused(f"{given}: resolves to {rel.as_posix()} under .git/")
        if real == self.state_dir or self.state_dir in real.parents:
            raise PathRefused(f"{given}: is inside calctl's state directory")
        if not rel.parts:
            raise PathRefused(f"{given}: names the project root, not a file")
        return rel.as_posix(), real

    def protection(self, rel: str) -> str | None:
        """Why ``rel`` is protected, or None."""
        if self.allow_protected:
            return None
        for pattern in self.protected:
            if _glob(pattern).match(rel):
                return f"{rel}: protected (matches {pattern!r})"
        migrations = posixpath.normpath(self.migrations_dir)
        if rel.startswith(migrations + "/") and self.applied_migrations is not None:
            if self._applied is None:
                self._applied = self.applied_migrations()
            applied = self._applied
            inside = rel[len(migrations) + 1:]
            if applied.error:
                return (f"{rel}: cannot tell whether this migration was applied "
                        f"({applied.error}); migration files are treated as applied")
            if {rel, inside, posixpath.basename(rel)} & applied.names:
                return f"{rel}: migration already recorded as applied in the database"
        return None


def protected_patterns(extra: Iterable[str], config_rel: str | None) -> tuple[str, ...]:
    """Default globs, the config file actually in use, and the project's own additions."""
    patterns = list(DEFAULT_PROTECTED)
    if config_rel:
        patterns.append(config_rel)
    patterns.extend(extra)
    return tuple(dict.fromkeys(patterns))


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """gitignore-like globs: ``**`` spans directories; a pattern without ``/`` matches a
    file name at any depth."""
    anchored = "/" in pattern.rstrip("/")
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    return re.compile(("" if anchored else "(?:.*/)?") + body + "$")
