"""What every offline diagnosis rule is, and what it is given.

A rule is one class per file (``fixNNN_<name>.py``) with a ``code``, a kebab-case
``name``, a docstring (summary, ``Problem:``, ``Fix:``) that is its documentation, and
cases in ``tests/fixtures/fixes/FIXNNN.toml``. :meth:`FixRule.diagnose` returns a
:class:`Found` (a summary, an explanation and the edits of a patch, or no edits when
the fault is known but no safe fix is) or None when the report is not its kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from calctl.documents import BugReport, Edit
    from calctl.providers.base import ProviderContext
    from calctl.sql.plan import DirectoryAnalysis

_SQLSTATE = re.compile(r"SQLSTATE[:\s\[]*([0-9A-Z]{5})")


@dataclass(frozen=True)
class Found:
    summary: str
    explanation: str
    edits: list[Edit] = field(default_factory=list)
    confidence: float = 0.8


class Applied:
    """Which migrations the target database's history records, applied or failed (paths
    relative to the migration directory), or why that is unknown."""

    def __init__(self, names: frozenset[str], error: str = "") -> None:
        self.names = names
        self.error = error


class RuleInput:
    """The report, the context, and what rules look up lazily (each computed once)."""

    def __init__(self, report: BugReport, ctx: ProviderContext) -> None:
        self.report = report
        self.ctx = ctx

    @property
    def message(self) -> str:
        return self.report.error.strip()

    @cached_property
    def sqlstate(self) -> str:
        context = self.report.context
        for key in ("sqlstate", "SQLSTATE"):
            value = context.get(key)
            if isinstance(value, str) and value:
                return value
        data = context.get("data")
        if isinstance(data, dict) and isinstance(data.get("sqlstate"), str):
            return str(data["sqlstate"])
        m = _SQLSTATE.search(self.report.error + "\n" + self.report.traceback)
        return m.group(1) if m else ""

    @cached_property
    def directory(self) -> Path:
        from calctl.sql.flags import migration_directory

        return migration_directory(self.ctx.settings, None).resolve()

    @cached_property
    def dir_prefix(self) -> str:
        """The migration directory relative to the project root, with a trailing '/'."""
        try:
            rel = self.directory.relative_to(self.ctx.root.resolve()).as_posix()
        except ValueError:
            return ""
        return "" if rel == "." else rel + "/"

    @cached_property
    def failing(self) -> str | None:
        """The failing migration, relative to the migration directory (None: not one)."""
        file = self.report.file
        if not file or not self.dir_prefix or not file.startswith(self.dir_prefix):
            return None
        rel = file[len(self.dir_prefix):]
        return rel if (self.directory / rel).is_file() else None

    def text_of(self, rel: str) -> str:
        try:
            return (self.directory / rel).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    @cached_property
    def analysis(self) -> DirectoryAnalysis:
        from calctl.sql.runtime import analyse_directory

        return analyse_directory(self.directory, self.ctx.settings.migrate)

    @cached_property
    def applied(self) -> Applied:
        """From the history table of ``ctx.database_url`` (nothing known without one).

        Read exactly as the patch engine reads it (``patch.context.applied_migrations``),
        so a rename chosen here is one ``patch apply`` accepts: a file that failed in its
        own transaction may be renamed, an applied or partly-run one not; a database
        that cannot be read counts every file as applied (the safe side)."""
        url = self.ctx.database_url
        if not url:
            return Applied(frozenset())
        from calctl.patch.context import applied_migrations

        found = applied_migrations(url)
        return Applied(found.names, found.error or "")

    def is_applied(self, rel: str) -> bool:
        return bool(self.applied.error) or rel in self.applied.names


class FixRule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""

    def diagnose(self, inp: RuleInput) -> Found | None:
        raise NotImplementedError

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n", 1)[0]


def quoted_name(message: str, pattern: str) -> str | None:
    """The name a PostgreSQL message quotes where ``pattern`` (a regex with one group
    for the quoted name) matches, unquoted."""
    m = re.search(pattern, message, re.I)
    return m.group(1) if m else None
