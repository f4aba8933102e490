"""A lint baseline: the findings a project has accepted, so only new ones are reported.

``migrate lint --write-baseline FILE`` records every finding as (rule code, file path,
fingerprint of its statement); ``--baseline FILE`` then drops the findings the file
holds. The fingerprint is a hash of the statement's tokens as PostgreSQL's scanner
reads them — comments and white space left out — so a finding survives lines moving,
reformatting and comments, and a changed statement is a new finding. A statement with
two findings of one rule is recorded twice (``count``), so a third is new.

An old history can adopt calctl this way without touching files already applied.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from calctl.documents.base import Document, Record
from calctl.errors import UsageError

if TYPE_CHECKING:
    from calctl.documents import Problem
    from calctl.sql.discovery import MigrationFile

Key = tuple[str, str, str]  # (code, path, statement fingerprint)


@dataclass(frozen=True)
class BaselineEntry(Record):
    code: str
    path: str
    statement: str        # fingerprint of the statement's normalised text
    count: int = 1
    line: int | None = None  # where it was when recorded (for a reader; not matched)
    message: str = ""        # likewise

    def validate_fields(self, where: str) -> None:
        if self.count < 1:
            from calctl.errors import DocumentError

            raise DocumentError(f"field {where}.count: must be at least 1, not {self.count}")


@dataclass(frozen=True)
class LintBaseline(Document):
    """The findings ``migrate lint --write-baseline`` recorded."""

    KIND: ClassVar[str] = "lint-baseline"

    directory: str
    findings: list[BaselineEntry] = field(default_factory=list)

    def counts(self) -> Counter[Key]:
        found: Counter[Key] = Counter()
        for entry in self.findings:
            found[(entry.code, entry.path, entry.statement)] += entry.count
        return found


def normalised(text: str) -> str:
    """``text``'s tokens joined by single spaces, comments left out (PostgreSQL's
    scanner; a text it cannot scan: white space collapsed and ``--`` comments cut)."""
    from calctl.sql.pgparser import parser as load_parser

    parser = load_parser()
    try:
        tokens = parser.scan(text)
    except parser.ParseError:
        lines = (line.split("--", 1)[0] for line in text.splitlines())
        return " ".join(" ".join(lines).split())
    return " ".join(text[t.start:t.end + 1] for t in tokens
                    if t.name not in ("C_COMMENT", "SQL_COMMENT"))


def fingerprint(text: str) -> str:
    return blake2b(normalised(text).encode("utf-8", "surrogatepass"),
                   digest_size=12).hexdigest()


class _Statements:
    """Each file's statements as (first line, last line, fingerprint), split on demand."""

    def __init__(self, files: Sequence[MigrationFile]) -> None:
        self.text = {f.path: f.text for f in files}
        self.spans: dict[str, list[tuple[int, int, str]]] = {}

    def at(self, path: str, line: int | None) -> str:
        """The fingerprint of the statement at ``line`` of ``path`` (the next one for a
        line between statements, the last one after them; "" without a line)."""
        text = self.text.get(path)
        if text is None or line is None:
            return ""
        spans = self.spans.get(path)
        if spans is None:
            spans = self.spans[path] = self._split(text)
        for _, last, print_ in spans:
            if line <= last:
                return print_
        return spans[-1][2] if spans else ""

    @staticmethod
    def _split(text: str) -> list[tuple[int, int, str]]:
        from calctl.sql.split import split

        spans = []
        for stmt in split(text).statements:
            first = text.count("\n", 0, stmt.start) + 1
            last = first + text.count("\n", stmt.start, max(stmt.end - 1, stmt.start))
            spans.append((first, last, fingerprint(stmt.text)))
        return spans


def keys(problems: Iterable[Problem], files: Sequence[MigrationFile]) -> list[Key]:
    """The baseline key of each problem, in order."""
    statements = _Statements(files)
    return [(p.code, p.path, statements.at(p.path, p.line)) for p in problems]


def make(directory: str, problems: Sequence[Problem],
         files: Sequence[MigrationFile]) -> LintBaseline:
    """The baseline of ``problems`` (today's findings)."""
    grouped: dict[Key, BaselineEntry] = {}
    for problem, key in zip(problems, keys(problems, files), strict=True):
        entry = grouped.get(key)
        if entry is None:
            grouped[key] = BaselineEntry(*key, line=problem.line, message=problem.message)
        else:
            grouped[key] = BaselineEntry(*key, count=entry.count + 1, line=entry.line,
                                         message=entry.message)
    return LintBaseline(directory=directory, findings=list(grouped.values()))


def new_only(problems: Sequence[Problem], files: Sequence[MigrationFile],
             baseline: LintBaseline) -> list[Problem]:
    """The problems the baseline does not hold (each entry absorbs ``count`` of them)."""
    left = baseline.counts()
    kept: list[Problem] = []
    for problem, key in zip(problems, keys(problems, files), strict=True):
        if left[key] > 0:
            left[key] -= 1
        else:
            kept.append(problem)
    return kept


def load(path: Path) -> tuple[LintBaseline, str]:
    """The baseline in ``path`` and its text; anything else is exit 2 naming the file."""
    from calctl.errors import DocumentError

    hint = "Write one with `calctl migrate lint --write-baseline FILE`."
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"cannot read baseline {path}: {why}", hint=hint,
                         code="bad-baseline") from None
    try:
        document = LintBaseline.from_dict(json.loads(text))
    except (ValueError, DocumentError) as exc:
        detail = exc.message if isinstance(exc, DocumentError) else f"not JSON ({exc})"
        raise UsageError(f"baseline {path} is not a lint-baseline document: {detail}",
                         hint=hint, code="bad-baseline") from None
    return document, text


def write(path: Path, baseline: LintBaseline) -> None:
    """Write ``baseline`` to ``path`` (atomically: a reader never sees half a file)."""
    import os
    import tempfile

    text = json.dumps(baseline.to_dict(), indent=1, ensure_ascii=False) + "\n"
    try:
        folder = path.parent if str(path.parent) else Path(".")
        fd, temp = tempfile.mkstemp(prefix=".baseline-", dir=folder)
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)  # a file to commit, as `>` would make it
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise UsageError(f"cannot write baseline {path}: {exc.strerror}",
                         code="bad-baseline") from None
