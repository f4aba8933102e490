"""Rules that read each statement's tree: the safety rules squawk also has.

A :class:`StatementRule` looks at one file at a time, through a :class:`FileScope`:
the file's parsed statements (:mod:`calctl.sql.statements`), whether calctl runs it in
one transaction, the target's PostgreSQL major version (``None``: the newest), and
which tables are *new* — created earlier in the same file, or (when ``migrate lint``
knows the target database) by a file the target has not applied yet. A rule about
locking or rewriting an existing table stays quiet on a new one: nobody reads it yet.
Without a database, tables from earlier files count as existing.

A rule yields :class:`Finding` values; one that knows the repair attaches it as
:class:`Edit` values (character offsets in the file's text) which ``migrate lint
--fix`` turns into a patch. The runner (:func:`statement_findings`) parses each file
once for all statement rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from calctl.documents import Problem
from calctl.sql.rules.base import Rule, RuleContext

if TYPE_CHECKING:
    from calctl.sql.statements import Source, Statement

Node = dict[str, Any]


@dataclass(frozen=True)
class Edit:
    """Replace the characters ``[start, end)`` of the file's text with ``text``."""

    start: int
    end: int
    text: str


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """``text`` with ``edits`` applied, each against the original offsets. Insertions at
    one offset keep their order; an edit given twice (two fixes adding the same
    ``-- calctl: no-transaction`` line) is applied once; overlapping replacements are a
    ValueError (two fixes that disagree)."""
    unique = list(dict.fromkeys(edits))
    ordered = sorted(unique, key=lambda e: (e.start, e.end))  # stable: keeps given order
    pieces: list[str] = []
    at = 0
    for edit in ordered:
        if edit.start < at or edit.end < edit.start or edit.end > len(text):
            raise ValueError(f"edit [{edit.start}, {edit.end}) overlaps another or the text")
        pieces += [text[at:edit.start], edit.text]
        at = edit.end
    pieces.append(text[at:])
    return "".join(pieces)


@dataclass(frozen=True)
class Finding:
    line: int
    column: int
    message: str
    hint: str = ""
    fix: tuple[Edit, ...] = ()
    fix_title: str = ""   # what the fix does, one sentence ("Add CONCURRENTLY.")
    squawk: str = ""      # the squawk rule this finding is (when the rule maps several)


@dataclass
class FileScope:
    """One file as the statement rules see it."""

    path: str
    source: Source
    statements: list[Statement]
    transaction: bool                 # calctl runs the file in one transaction
    pg_version: int | None = None     # the target's major version; None: the newest
    default_schema: str = "public"
    new_elsewhere: frozenset[str] = frozenset()  # tables of files the target lacks
    created: dict[str, int] = field(default_factory=dict)   # table → creating statement
    settings: dict[str, int] = field(default_factory=dict)  # SET name → first statement
    memo: dict[str, Any] = field(default_factory=dict)  # what several rules compute once

    def relation(self, rangevar: Node | None) -> str:
        """The ``schema.name`` identity of a RangeVar (the default schema when bare)."""
        if not rangevar:
            return ""
        schema = rangevar.get("schemaname") or self.default_schema
        return f"{schema}.{rangevar.get('relname', '')}"

    def is_new_table(self, rangevar: Node | None, stmt: Statement) -> bool:
        """Whether the table is new when ``stmt`` runs (see the module's docstring)."""
        name = self.relation(rangevar)
        at = self.created.get(name)
        return (at is not None and at < stmt.index) or name in self.new_elsewhere

    def set_before(self, parameter: str, stmt: Statement) -> bool:
        """Whether a ``SET [LOCAL] parameter`` came before ``stmt`` in this file."""
        at = self.settings.get(parameter.lower())
        return at is not None and at < stmt.index

    def version_at_least(self, major: int) -> bool:
        return self.pg_version is None or self.pg_version >= major


class StatementRule(Rule):
    """A rule over each statement's tree (``kinds``: the node types it reads, e.g.
    ``IndexStmt``; empty: every statement). Override :meth:`check_statement`, or
    :meth:`check_file` for a rule about the file as a whole."""

    scope = "lint"
    kinds: ClassVar[frozenset[str]] = frozenset()

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        kinds = self.kinds
        for stmt in scope.statements:
            if not kinds or stmt.kind in kinds:
                yield from self.check_statement(stmt, scope)

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(self, stmt: Statement, message: str, hint: str = "", *,
                location: int | None = None, fix: Iterable[Edit] = (), fix_title: str = "",
                squawk: str = "") -> Finding:
        line, column = stmt.pos(location)
        return Finding(line, column, message, hint, tuple(fix), fix_title, squawk)

    def check(self, ctx: RuleContext) -> Iterator[Problem]:
        yield from check_statements(ctx, [self])


def statement_findings(ctx: RuleContext, rules: list[StatementRule],
                       ) -> Iterator[tuple[int, FileScope, StatementRule, Finding]]:
    """(file index, its scope, rule, finding) of every statement rule, file by file."""
    from calctl.sql.statements import parse_statements

    if not rules:
        return
    new_elsewhere = _tables_of_unapplied(ctx)
    for i, (file, analysis) in enumerate(zip(ctx.files, ctx.analyses, strict=True)):
        source, statements = parse_statements(file.text, ctx.defines)
        scope = FileScope(file.path, source, statements, analysis.transaction,
                          ctx.pg_version, ctx.default_schema, new_elsewhere)
        _index(scope)
        for rule in rules:
            for finding in rule.check_file(scope):
                yield i, scope, rule, finding


def check_statements(ctx: RuleContext, rules: list[StatementRule]) -> Iterator[Problem]:
    for _, scope, rule, finding in statement_findings(ctx, rules):
        yield rule.problem(scope.path, finding.message, line=finding.line,
                           column=finding.column, hint=finding.hint)


def _tables_of_unapplied(ctx: RuleContext) -> frozenset[str]:
    from calctl.sql.facts import CREATE

    if ctx.unapplied is None:
        return frozenset()
    return frozenset(
        fact.names[0]
        for file, analysis in zip(ctx.files, ctx.analyses, strict=True)
        if file.path in ctx.unapplied
        for fact in analysis.facts
        if fact.action == CREATE and fact.display == "table" and fact.names)


def _index(scope: FileScope) -> None:
    """Fill ``created`` and ``settings`` from the file's statements."""
    for stmt in scope.statements:
        node = stmt.node
        if node.get("if_not_exists"):
            continue  # CREATE … IF NOT EXISTS may find the table there, and busy
        if stmt.kind == "CreateStmt":
            scope.created.setdefault(scope.relation(node.get("relation")), stmt.index)
        elif stmt.kind == "CreateTableAsStmt":
            into = node.get("into") or {}
            scope.created.setdefault(scope.relation(into.get("rel")), stmt.index)
        elif (stmt.kind == "VariableSetStmt" and node.get("name")
              and not str(node.get("kind", "")).startswith("VAR_RESET")):  # RESET undoes
            scope.settings.setdefault(str(node["name"]).lower(), stmt.index)


def mapping_of(rules: Iterable[type[Rule]]) -> Mapping[str, str]:
    """squawk rule name → calctl code, for every rule that names its squawk twin."""
    return {name: cls.code for cls in rules for name in cls.squawk}
