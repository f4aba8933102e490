"""Files calctl cannot read, as problems (CAL006) instead of an error.

``migrate order`` and ``lint`` stop with exit 2 on a migration that cannot be read (no
permission, not UTF-8, over the size limit): no order can be trusted without every file.
A report made for CI (SARIF, a GitLab Code Quality report, JUnit XML, annotations) says
so as a result instead, so the upload shows the file rather than an empty report.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.documents import Problem
from calctl.errors import UsageError

if TYPE_CHECKING:
    from calctl.config import MigrateSettings

# what discovery raises for one file it cannot read
UNREADABLE_CODES = frozenset({"unreadable", "bad-encoding", "file-too-large"})
_LINE = re.compile(r"(\d+): (.*)", re.S)
_LISTED = re.compile(r"(.*):(\d+): cannot read: (.*)", re.S)


def unreadable_problems(directory: Path, settings: MigrateSettings) -> list[Problem]:
    """A CAL006 problem for each migration of ``directory`` that cannot be read (none when
    the directory itself cannot be listed: its error stands)."""
    from calctl.sql.discovery import _read, discover_layout, shown_path

    try:
        files, _ = discover_layout(directory, globs=settings.glob, exclude=settings.exclude,
                                   read=False, ordered=False)
    except UsageError as exc:  # a link that leads nowhere stops the listing itself
        listed = _LISTED.match(exc.message) if exc.code in UNREADABLE_CODES else None
        if listed is None:
            return []
        import os

        path = Path(os.path.relpath(os.path.abspath(listed.group(1)),
                                    os.path.abspath(directory))).as_posix()
        return [_problem(path, int(listed.group(2)), listed.group(3), exc.hint)]
    problems = []
    for f in sorted(files):
        try:
            _read(f.path, f.location)
        except UsageError as exc:
            if exc.code not in UNREADABLE_CODES:
                raise
            line, reason = _reason(exc.message, (shown_path(f.location), f.path))
            problems.append(_problem(f.path, line, reason, exc.hint))
    return problems


def _problem(path: str, line: int | None, reason: str, hint: str) -> Problem:
    from calctl.sql.rules.cal006_parse_error import ParseError

    return Problem(code=ParseError.code, name=ParseError.name, severity="error", path=path,
                   line=line, message=f"calctl cannot read {path}: {reason}",
                   hint=hint or "Fix the file so that it can be read as UTF-8 text.")


def _reason(message: str, names: tuple[str, ...]) -> tuple[int | None, str]:
    """The line and the reason of a discovery error ``<name>[:<line>]: <reason>``."""
    for name in names:
        if message.startswith(name + ":"):
            rest = message[len(name) + 1:]
            found = _LINE.match(rest)
            if found:
                return int(found.group(1)), found.group(2)
            return None, rest.strip()
    return None, message
