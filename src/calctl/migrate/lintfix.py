"""Which migrations ``migrate lint --fix`` may change.

Changing a migration that a database has already run does not change that database: the
file and the schema then disagree, and ``migrate apply`` refuses the changed checksum. So
a fix is made only where nobody can have run the file yet:

- with the target database (``--database-url``): to the files its history
  (``calctl_migrations``) does not record as applied;
- without one: to the files git has not committed yet (untracked, or changed since the
  last commit, staged or not) — a committed file may have reached any database;
- ``--force`` lifts the git rule (never the database's).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.errors import ExternalError, UsageError

if TYPE_CHECKING:
    from calctl.documents import Patch

NOT_A_REPO = ("not in a git repository, so calctl cannot tell whether a database has run it; "
              "pass --force to fix it anyway, or --database-url to ask the target")
COMMITTED = ("committed in git: a database may have applied it already; pass --force to fix "
             "it anyway, or --database-url to ask the target")
APPLIED = "applied by the target database: fixing the file would not change the database"


def applied_files(url: str) -> frozenset[str]:
    """The paths the target's history records as applied (an ExternalError when the
    database cannot be asked: refusing to guess is the safe side)."""
    from calctl.patch.context import applied_migrations

    applied = applied_migrations(url)
    if applied.error:
        raise ExternalError(f"migrate lint --fix: {applied.error}",
                            hint="Check --database-url, or fix without it (only files git "
                            "has not committed yet are changed).", code="database")
    return frozenset(applied.names)


def refusals(root: Path, paths: Sequence[tuple[str, str]], *,
             applied: frozenset[str] | None, force: bool) -> dict[str, str]:
    """Why each file of ``paths`` — (path in the migration directory, path relative to
    the project ``root``) — may not be fixed, by its path in the directory; the files
    left out may be. ``applied``: the target's applied paths (None: no target)."""
    if applied is not None:
        names = {name.lower() for name in applied}
        return {inside: APPLIED for inside, project in paths
                if {inside.lower(), project.lower(), Path(inside).name.lower()} & names}
    if force:
        return {}
    changed = uncommitted(root, [project for _, project in paths])
    if changed is None:
        return {inside: NOT_A_REPO for inside, _ in paths}
    return {inside: COMMITTED for inside, project in paths if project not in changed}


def uncommitted(root: Path, paths: Sequence[str]) -> set[str] | None:
    """Those of ``paths`` (relative to ``root``) git has not committed as they are: new,
    or changed since the last commit; None outside a git repository."""
    from calctl.patch.gitmode import GitRepo

    if not paths:
        return set()
    try:
        repo = GitRepo(root)
    except UsageError:  # not a repository
        return None
    dirty = set(repo.dirty(list(paths)))
    return {p for p in paths if repo.rel(p) in dirty}


def fix_patch(changes: Sequence[tuple[str, str, str]], *, description: str) -> Patch:
    """A patch making ``changes`` — (path relative to the project root, text before, text
    after) — as a unified diff the patch engine applies hunk by hunk (each hunk's old
    lines must still be in the file)."""
    from calctl.documents import Patch
    from calctl.ids import new_id
    from calctl.patch.diffs import unified
    from calctl.patch.validate import FileState

    diff = "".join(
        unified(path, FileState(True, before.encode("utf-8")),
                FileState(True, after.encode("utf-8")))
        for path, before, after in changes if before != after)
    return Patch(id=new_id(), description=description, diff=diff or None)
