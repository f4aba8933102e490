"""A migration that failed, and the ``finding`` document it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from calctl.documents import Finding
from calctl.ids import now_iso

Kind = Literal["sql-error", "checksum-changed", "out-of-order", "parse-error",
               "transaction-control"]

# Kinds found before any of the file ran: the file was refused whole.
REFUSED: frozenset[str] = frozenset({"parse-error", "transaction-control"})


@dataclass(frozen=True)
class Failure:
    """Why ``apply`` stopped: a statement failed, a file changed, a file is out of order, or
    a file was refused before it ran (a statement the parser rejects, transaction control)."""

    kind: Kind
    path: str
    message: str
    hint: str = ""
    line: int | None = None
    column: int | None = None
    sqlstate: str = ""
    detail: str = ""
    context: str = ""
    statement: int | None = None
    statement_text: str = ""
    source_line: str = ""
    others: list[str] = field(default_factory=list)
    partial: bool = False

    @property
    def where(self) -> str:
        if self.line is None:
            return self.path
        return f"{self.path}:{self.line}:{self.column or 1}"

    def headline(self) -> str:
        """One line: ``file:line:col: message [SQLSTATE]``."""
        if self.kind != "sql-error" and self.kind not in REFUSED:
            return self.message
        state = f" [SQLSTATE {self.sqlstate}]" if self.sqlstate else ""
        return f"{self.where}: {self.message}{state}"


def to_finding(failure: Failure, *, check: str, file_prefix: str = "",
               data: dict[str, Any] | None = None) -> Finding:
    """The ``finding`` document (source ``migration``) that ``calctl report -`` accepts.

    ``file_prefix`` turns the path relative to the migration directory into one
    relative to the project root (``migrations/``), which is what a bug report shows.
    """
    extra: dict[str, Any] = {"kind": failure.kind, "path": failure.path}
    if failure.statement is not None:
        extra["statement"] = failure.statement
        extra["statement_text"] = failure.statement_text[:2000]
    for key in ("detail", "context"):
        value = getattr(failure, key)
        if value:
            extra[key] = value
    if failure.others:
        extra["others"] = failure.others
    if failure.partial:
        extra["partially_applied"] = True
    extra.update(data or {})
    error = failure.message
    if failure.detail:
        error += f"\nDETAIL: {failure.detail}"
    return Finding(
        check=check,
        source="migration",
        error=error,
        file=file_prefix + failure.path,
        line=failure.line,
        column=failure.column,
        traceback=_pg_traceback(failure, file_prefix),
        ts=now_iso(),
        data=extra,
        hint=failure.hint,
        sqlstate=failure.sqlstate,
    )


def _pg_traceback(failure: Failure, prefix: str) -> str:
    """The error as psql would print it, with the file location (what report parses)."""
    if failure.kind != "sql-error" and failure.kind not in REFUSED:
        return ""
    lines = [f"ERROR:  {failure.message}"]
    if failure.detail:
        lines.append(f"DETAIL:  {failure.detail}")
    if failure.hint:
        lines.append(f"HINT:  {failure.hint}")
    if failure.context:
        lines.append(f"CONTEXT:  {failure.context}")
    if failure.line is not None:
        lines.append(f'  File "{prefix}{failure.path}", line {failure.line}, '
                     f"column {failure.column or 1}")
        if failure.source_line:
            lines.append(f"    {failure.source_line}")
    return "\n".join(lines)
