"""``migrate lint --changed-since REF``: the migration files changed since a git ref.

Like Atlas's ``--git-base``: the files that differ between the merge-base of ``REF``
and ``HEAD`` and the working tree (committed on the branch, staged or not), plus the
untracked files git does not ignore. gitpython is imported here only.
"""

from __future__ import annotations

import os
from pathlib import Path

from calctl.errors import ExternalError, UsageError


def changed_paths(directory: Path, ref: str) -> frozenset[str]:
    """Paths relative to ``directory`` of the files changed since ``ref``'s merge-base
    with HEAD. A ref git does not know, or a directory outside a repository, is exit 2."""
    import git

    where = f"--changed-since {ref}"
    if not ref or ref.startswith("-"):
        raise UsageError(f"{where}: not a git revision", code="bad-ref")
    try:
        repo = git.Repo(directory, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(f"{where}: {directory} is not inside a git repository",
                         hint="Run calctl from a clone, or lint without --changed-since.",
                         code="not-a-repo") from None
    try:
        top = Path(str(repo.working_tree_dir)).resolve()
        inside = directory.resolve().relative_to(top).as_posix()
        scope = "." if inside == "." else inside
        try:
            base = repo.git.merge_base(ref, "HEAD").strip()
        except git.GitCommandError as exc:
            detail = (exc.stderr or "").strip().splitlines()
            raise UsageError(
                f"{where}: git cannot find the merge-base of {ref!r} and HEAD in {top}"
                + (f" ({detail[-1].removeprefix('stderr: ').strip()})" if detail else ""),
                hint="Name a branch, tag or commit the clone has (a CI checkout may need "
                "`fetch-depth: 0`, or `git fetch origin main`).", code="bad-ref") from None
        listed = repo.git.diff("--name-only", "-z", "--no-renames", base, "--", scope,
                               stdout_as_string=False)
        untracked = repo.git.ls_files("--others", "--exclude-standard", "-z", "--", scope,
                                      stdout_as_string=False)
    except git.GitCommandNotFound as exc:
        raise ExternalError("--changed-since needs the git executable, which is not "
                            "installed", code="git") from exc
    except git.GitCommandError as exc:
        detail = (exc.stderr or str(exc)).strip().splitlines()
        raise ExternalError(f"git failed for {where}: {detail[-1] if detail else exc}",
                            code="git") from exc
    prefix = "" if inside == "." else inside + "/"
    found: set[str] = set()
    for raw in (listed + b"\0" + untracked).split(b"\0"):
        if not raw:
            continue
        name = os.fsdecode(raw)
        if name.startswith(prefix):
            found.add(name[len(prefix):])
    return frozenset(found)
