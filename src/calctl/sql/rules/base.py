"""What every lint rule is: a class with a code, a kebab-case name, a severity, a scope
(``order`` rules run in ``migrate order`` and ``migrate lint``; ``lint`` rules only in
``migrate lint``), a docstring (summary, problem, fix) and a ``check`` method."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

from calctl.documents import Problem
from calctl.sql.facts import Note

if TYPE_CHECKING:
    from calctl.sql.discovery import MigrationFile
    from calctl.sql.facts import FileAnalysis
    from calctl.sql.graph import Ordering
    from calctl.sql.names import Resolution
    from calctl.sql.observations import Observation

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True)
class RuleContext:
    """Everything rules look at: files in filename order, their analyses, the graph."""

    files: list[MigrationFile]
    analyses: list[FileAnalysis]
    resolution: Resolution
    ordering: Ordering
    default_schema: str = "public"
    # what the statement rules (calctl.sql.rules.statement) also need
    defines: Mapping[str, str] = field(default_factory=dict)  # template values
    pg_version: int | None = None          # the target's major version; None: newest
    unapplied: frozenset[str] | None = None  # paths the target has not applied (no DB: None)


class Rule:
    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = "warning"
    scope: ClassVar[Literal["order", "lint"]] = "order"
    # squawk's names for the same concern (a team switching keeps its ignores)
    squawk: ClassVar[tuple[str, ...]] = ()
    # one migration file's SQL that fires the rule (docs/rules.md; required with squawk)
    example: ClassVar[str] = ""
    # off unless selected by name, code, prefix or ALL (squawk's opt-in rules)
    opt_in: ClassVar[bool] = False

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        raise NotImplementedError

    def problem(self, path: str, message: str, *, line: int | None = None,
                column: int | None = None, hint: str = "") -> Problem:
        return Problem(code=self.code, name=self.name, severity=self.severity, path=path,
                       message=message, line=line, column=column, hint=hint)

    @classmethod
    def summary(cls) -> str:
        return (cls.__doc__ or "").strip().split("\n", 1)[0]


class ObservationRule(Rule):
    """A rule about what the per-file analyser observes (``calctl.sql.observations``).

    ``observes`` names the observation kinds it owns; :meth:`note` words one of them
    (message and hint), when the file is analysed, into a note kept with the file's
    analysis (and its cache); :meth:`check` reports the notes with this rule's code.
    """

    observes: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def note(cls, seen: Observation) -> Note:
        raise NotImplementedError

    @classmethod
    def make_note(cls, seen: Observation, message: str, hint: str) -> Note:
        return Note(cls.code, seen.line, seen.column, message, hint)

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        for file, analysis in zip(ctx.files, ctx.analyses, strict=True):
            for note in analysis.notes:
                if note.code == self.code:
                    yield self.problem(file.path, note.message, line=note.line,
                                       column=note.column, hint=note.hint)
