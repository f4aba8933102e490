"""What every lint rule is: a class with a code, a kebab-case name, a severity, a scope
(``order`` rules run in ``migrate order`` and ``migrate lint``; ``lint`` rules only in
``migrate lint``), a docstring (summary, problem, fix) and a ``check`` method."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from calctl.documents import Problem

if TYPE_CHECKING:
    from calctl.sql.discovery import MigrationFile
    from calctl.sql.facts import FileAnalysis
    from calctl.sql.graph import Ordering
    from calctl.sql.names import Resolution

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class RuleContext:
    """Everything rules look at: files in filename order, their analyses, the graph."""

    files: list[MigrationFile]
    analyses: list[FileAnalysis]
    resolution: Resolution
    ordering: Ordering
    default_schema: str = "public"


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = "warning"
    scope: ClassVar[Literal["order", "lint"]] = "order"

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        raise NotImplementedError

    def problem(self, path: str, message: str, *, line: int | None = None,
                column: int | None = None, hint: str = "") -> Problem:
        return Problem(code=self.code, name=self.name, severity=self.severity, path=path,
                       message=message, line=line, column=column, hint=hint)

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n", 1)[0]


class NoteRule(Rule):
    """A rule whose findings the per-file analyser records as notes with this code."""

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        for file, analysis in zip(ctx.files, ctx.analyses, strict=True):
            for note in analysis.notes:
                if note.code == self.code:
                    yield self.problem(file.path, note.message, line=note.line,
                                       column=note.column, hint=note.hint)
