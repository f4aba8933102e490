"""The column types squawk's type rules read (CAL038–CAL044): the type of each column a
``CREATE TABLE`` defines, an ``ALTER TABLE … ADD COLUMN`` adds or an ``ALTER COLUMN …
TYPE`` sets — not a composite type's, a domain's, a function's or a cast's, as squawk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.rules.textpos import at
from calctl.sql.statements import Statement

Node = dict[str, Any]
_RETYPING = ("AT_AddColumn", "AT_AlterColumnType")
_SHOWN = {"int4": "integer", "int2": "smallint", "bpchar": "character"}


def column_types(stmt: Statement) -> Iterator[Node]:
    """The ``TypeName`` nodes of the columns ``stmt`` creates or retypes."""
    node = stmt.node
    if stmt.kind == "CreateStmt":
        for element in node.get("tableElts") or ():
            column = element.get("ColumnDef")
            if column and column.get("typeName"):
                yield column["typeName"]
    elif stmt.kind == "AlterTableStmt" and node.get("objtype") == "OBJECT_TABLE":
        for item in node.get("cmds") or ():
            cmd = item.get("AlterTableCmd") or {}
            if cmd.get("subtype") in _RETYPING:
                column = (cmd.get("def") or {}).get("ColumnDef") or {}
                if column.get("typeName"):
                    yield column["typeName"]


def typed_columns(scope: FileScope) -> list[tuple[Statement, str, Node]]:
    """(statement, :func:`type_name`, ``TypeName``) of every column type of the file, read
    once for all the type rules."""
    found = scope.memo.get("column_types")
    if found is None:
        found = [(stmt, type_name(tn), tn) for stmt in scope.statements
                 if stmt.kind in ColumnTypeRule.kinds for tn in column_types(stmt)]
        scope.memo["column_types"] = found
    return found


def type_name(tn: Node) -> str:
    """The type's own name as PostgreSQL's parser spells it (``int`` is ``int4``,
    ``character`` is ``bpchar``); "" for ``%TYPE``."""
    if tn.get("pct_type"):
        return ""
    names = tn.get("names") or ()
    last = names[-1] if names else {}
    return str((last.get("String") or {}).get("sval", ""))


class ColumnTypeRule(StatementRule):
    """A rule about a column's type: ``names`` (PostgreSQL's spelling of the type);
    ``spelling`` matches the type as written at its position, ``replacement`` words
    the fix (None: no fix)."""

    kinds = frozenset({"CreateStmt", "AlterTableStmt"})
    names: ClassVar[frozenset[str]] = frozenset()
    spelling: ClassVar[re.Pattern[str] | None] = None
    written: ClassVar[re.Pattern[str] | None] = None  # it must be written so to fire
    message: ClassVar[str] = ""
    hint: ClassVar[str] = ""
    fix_title: ClassVar[str] = ""

    def fires(self, name: str, tn: Node) -> bool:
        return name in self.names

    def replacement(self, written: re.Match[str]) -> str | None:
        return None

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        for stmt, name, tn in typed_columns(scope):
            if self.fires(name, tn) and (
                    self.written is None or at(stmt, scope, tn.get("location"), self.written)):
                shown = _SHOWN.get(name, name)
                yield self.finding(stmt, self.message.format(type=shown), self.hint,
                                   location=tn.get("location"),
                                   fix=self._fix(stmt, scope, tn), fix_title=self.fix_title)

    def _fix(self, stmt: Statement, scope: FileScope, tn: Node) -> tuple[Edit, ...]:
        if self.spelling is None or not scope.source.exact:
            return ()
        written = at(stmt, scope, tn.get("location"), self.spelling)
        if written is None:
            return ()
        text = self.replacement(written)
        return () if text is None else (Edit(written.start(), written.end(), text),)


# how the integer and serial types are written ("int", pg_catalog.int4, "integer"…)
QUALIFIER = r'(?:(?:pg_catalog|"pg_catalog")\s*\.\s*)?'
