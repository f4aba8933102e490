"""A temporary git worktree of the project's repository with a patch applied.

The user's checkout is never touched: the worktree is made from ``HEAD`` in a
temporary directory, the patch is validated again there by the patch engine and
written, and the worktree is removed afterwards whatever happens. Files the patch
touches must therefore be committed at ``HEAD``. gitpython is imported here only.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calctl.documents import Patch
    from calctl.providers.base import ProviderContext


class WorktreeError(Exception):
    """Why the patched worktree could not be made (one sentence)."""


@dataclass(frozen=True)
class Patched:
    repo: Any          # git.Repo of the worktree
    top: Path          # the worktree's top directory
    root: Path         # the project root inside it
    files: list[str]   # what the patch changed, relative to the project root


def git_error(exc: BaseException) -> str:
    stderr = getattr(exc, "stderr", "") or ""
    lines = [line.strip() for line in str(stderr or exc).splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


@contextmanager
def patched_worktree(ctx: ProviderContext, patch: Patch, *, commit: str | None = None
                     ) -> Iterator[Patched]:
    """Yield a worktree of ``HEAD`` with ``patch`` written (and committed with message
    ``commit`` when given)."""
    import git

    from calctl.providers.validation import plan

    try:
        main = git.Repo(ctx.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise WorktreeError(f"{ctx.root} is not inside a git repository") from None
    top = Path(str(main.working_tree_dir)).resolve()
    rel = ctx.root.resolve().relative_to(top)
    scratch = Path(tempfile.mkdtemp(prefix="calctl-worktree-"))
    where = scratch / "tree"
    try:
        main.git.worktree("add", "--detach", str(where), "HEAD")
    except git.GitCommandError as exc:
        os.rmdir(scratch)
        raise WorktreeError(f"git worktree add failed: {git_error(exc)}") from None
    try:
        root = where / rel
        checked = plan(patch, ctx, root=root)
        if checked.reasons:
            raise WorktreeError("the patch does not apply to the committed files (HEAD): "
                                + checked.reasons[0])
        for change in checked.changes:
            target = root / change.path
            if change.after.exists:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(change.after.data)
                target.chmod(change.after.mode)
            elif target.exists():
                target.unlink()
        repo = git.Repo(where)
        if commit is not None:
            try:
                repo.git.add("--all", "--", *[str(rel / c.path) for c in checked.changes])
                repo.git.commit("-q", "-m", commit, env=_identity(repo))
            except git.GitCommandError as exc:
                raise WorktreeError(f"git commit failed: {git_error(exc)}") from None
        yield Patched(repo, where, root, [c.path for c in checked.changes])
    finally:
        with contextlib.suppress(git.GitCommandError):
            main.git.worktree("remove", "--force", str(where))
        shutil.rmtree(scratch, ignore_errors=True)
        with contextlib.suppress(git.GitCommandError):
            main.git.worktree("prune")


def _identity(repo: Any) -> dict[str, str]:
    """calctl commits as the user when git knows who that is, else as calctl."""
    import git

    env: dict[str, str] = {}
    for key, var in (("user.name", "GIT_AUTHOR_NAME"), ("user.email", "GIT_AUTHOR_EMAIL")):
        try:
            repo.git.config("--get", key)
        except git.GitCommandError:
            value = "calctl" if key == "user.name" else "calctl@localhost"
            env[var] = value
            env[var.replace("AUTHOR", "COMMITTER")] = value
    return env
