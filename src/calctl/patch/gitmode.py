"""Optional git mode: commit each verified patch, revert it on rollback.

Only the paths the patch touched are ever staged or committed, so the user's
other work (staged or not) stays exactly as it was. With ``git_branch`` the
commit goes to a new ``calctl/patch-<id>`` branch built with plumbing (a
temporary index), leaving the current branch, index and working tree alone.
gitpython is imported here only, when git mode is on.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from calctl.errors import ExternalError, UsageError


@contextmanager
def _git_errors(what: str) -> Iterator[None]:
    import git

    try:
        yield
    except git.GitCommandError as exc:
        detail = (exc.stderr or str(exc)).strip().splitlines()
        raise ExternalError(f"git {what} failed: {detail[-1] if detail else exc}",
                            hint="Run the git command by hand to see why.",
                            code="git") from exc
    except git.GitCommandNotFound as exc:
        raise ExternalError("git mode needs the git executable, which is not installed",
                            code="git") from exc


class GitRepo:
    """The repository around the project root."""

    def __init__(self, root: Path) -> None:
        import git

        self.root = root
        with _git_errors("open"):
            try:
                self.repo: Any = git.Repo(root, search_parent_directories=True)
            except (git.InvalidGitRepositoryError, git.NoSuchPathError):
                raise UsageError(f"git mode: {root} is not inside a git repository",
                                 hint="Run `git init`, or apply without --git.",
                                 code="not-a-repo") from None
        self.top = Path(str(self.repo.working_tree_dir)).resolve()

    def rel(self, project_rel: str) -> str:
        return (self.root.resolve() / project_rel).relative_to(self.top).as_posix()

    def dirty(self, paths: list[str]) -> list[str]:
        """Touched paths with uncommitted changes of the user's (staged, unstaged, untracked)."""
        if not paths:
            return []
        rels = [self.rel(p) for p in paths]
        with _git_errors("status"):
            out = self.repo.git.status("--porcelain", "-z", "--untracked-files=all", "--", *rels)
        return sorted({entry[3:] for entry in out.split("\0") if len(entry) > 3})

    def branch(self) -> str:
        with _git_errors("rev-parse"):
            return str(self.repo.git.rev_parse("--abbrev-ref", "HEAD"))

    def _known(self, rels: list[str], ref: str) -> list[str]:
        """Paths that exist now or in ``ref`` (git refuses pathspecs that match nothing)."""
        with _git_errors("ls-tree"):
            tracked = set(self.repo.git.ls_tree("-r", "--name-only", ref, "--", *rels)
                          .splitlines()) if rels else set()
        return [r for r in rels if r in tracked or (self.top / r).exists()]

    def commit(self, paths: list[str], message: str, *, branch: str | None = None) -> str:
        """Commit the current content of ``paths``: on HEAD's branch, or on ``branch``
        (created from HEAD when missing) without touching HEAD, index or working tree."""
        rels = [self.rel(p) for p in paths]
        if branch is None:
            known = self._known(rels, "HEAD")
            with _git_errors("commit"):
                self.repo.git.add("-A", "--", *known)
                self.repo.git.commit("--no-verify", "-q", "-m", message, "--", *known)
                return str(self.repo.git.rev_parse("HEAD"))
        ref = f"refs/heads/{branch}"
        with _git_errors("commit-tree"):
            try:
                parent = str(self.repo.git.rev_parse("--verify", "-q", ref))
            except Exception:
                parent = str(self.repo.git.rev_parse("HEAD"))
            known = self._known(rels, parent)
            fd, index = tempfile.mkstemp(prefix="calctl-index-")
            os.close(fd)
            os.unlink(index)
            try:
                env = {"GIT_INDEX_FILE": index}
                self.repo.git.read_tree(parent, env=env)
                self.repo.git.update_index("--add", "--remove", "--", *known, env=env)
                tree = self.repo.git.write_tree(env=env)
                commit = str(self.repo.git.commit_tree(tree, "-p", parent, "-m", message))
                self.repo.git.update_ref(ref, commit)
            finally:
                if os.path.exists(index):
                    os.unlink(index)
            return commit


def commit_message(patch_id: str, description: str, report_id: str, files: list[str], *,
                   fingerprint: str = "") -> str:
    title = description.strip().splitlines()[0][:60] if description.strip() else "patch"
    lines = [f"calctl patch {patch_id}: {title}", "", "Applied and verified by calctl.", "",
             *[f"  {f}" for f in files], "", f"Calctl-Patch: {patch_id}"]
    if report_id:
        lines.append(f"Calctl-Report: {report_id}")
    if fingerprint:  # the fault it fixes (a heal's), for `git log --grep`
        lines.append(f"Calctl-Fingerprint: {fingerprint}")
    return "\n".join(lines) + "\n"


def revert_message(patch_id: str, commit: str) -> str:
    return (f"Revert calctl patch {patch_id}\n\nThis reverts commit {commit}.\n\n"
            f"Calctl-Patch: {patch_id}\n")
