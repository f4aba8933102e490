"""Path globs: one dialect for every setting and flag that takes one, gitignore's.

``[patch] protect``, ``[migrate] glob`` / ``exclude`` and ``--glob`` / ``--exclude`` are
read as lines of a ``.gitignore`` (by the ``pathspec`` library, which replicates git),
so a pattern means what git means:

- without a ``/`` (``V[0-9]*.sql``, ``*.down.sql``) it matches a name at any depth;
- with a ``/`` inside or at the start (``db/migrations/V[0-9]*.sql``, ``/init.sql``) it
  is anchored to the folder the setting is relative to, and ``*`` does not cross ``/``;
- ``tests/`` matches a folder of that name and everything under it; ``**`` crosses
  folders; ``!pattern`` takes back what an earlier line matched.

The folder a pattern is anchored to is the setting's: the project root for
``[patch] protect``, the migration directory for ``[migrate] glob`` and ``exclude``.

pathspec costs tens of milliseconds to import, so it is imported here only when a
pattern is compiled, and callers compile only when a pattern is configured.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def gitignore_spec(patterns: Sequence[str]) -> Any:
    """A ``pathspec.GitIgnoreSpec`` of ``patterns`` (``match_file``, ``check_file``).

    Raises ValueError (pathspec's error is one) for a pattern git cannot read."""
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(list(patterns))


def matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """``match(relative_posix_path)``: whether ``patterns`` select that file."""
    match: Callable[[str], bool] = gitignore_spec(patterns).match_file
    return match


def pattern_error(pattern: str) -> str:
    """Why git cannot read ``pattern`` as a gitignore line ("" when it can)."""
    try:
        gitignore_spec([pattern])
    except ValueError as exc:
        return f"it is not a valid gitignore pattern: {exc}"
    return ""
