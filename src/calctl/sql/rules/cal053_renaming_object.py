from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import keyword_location
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

# what squawk 2.70 calls renaming an object (tables and columns have their own rules;
# collations and statistics objects no client names)
_OBJECTS = {
    "OBJECT_VIEW": "a view", "OBJECT_MATVIEW": "a materialized view",
    "OBJECT_SEQUENCE": "a sequence", "OBJECT_INDEX": "an index", "OBJECT_TYPE": "a type",
    "OBJECT_DOMAIN": "a domain", "OBJECT_DOMCONSTRAINT": "a domain constraint",
    "OBJECT_FUNCTION": "a function", "OBJECT_PROCEDURE": "a procedure",
    "OBJECT_ROUTINE": "a routine", "OBJECT_AGGREGATE": "an aggregate",
    "OBJECT_SCHEMA": "a schema", "OBJECT_TABCONSTRAINT": "a constraint",
    "OBJECT_TRIGGER": "a trigger", "OBJECT_POLICY": "a policy",
    "OBJECT_FOREIGN_TABLE": "a foreign table",
}


class RenamingObject(StatementRule):
    """``ALTER … RENAME`` of a view, index, sequence, type, function, constraint or enum value.

    Also schemas, triggers, policies, domains and foreign tables, and ``RENAME VALUE``.

    Problem: clients and other database code that still use the old name fail from the
    moment the rename commits (a function called by name, a view queried, an enum label
    compared).
    Fix: create the new object beside the old one and move clients over before dropping
    it; or silence the statement with ``-- calctl: ignore CAL053`` when nothing outside
    the migration uses the name. Tables and columns are CAL023 and CAL022.
    """

    code = "CAL053"
    name = "renaming-object"
    severity = "warning"
    squawk = ("renaming-object",)
    kinds = frozenset({"RenameStmt", "AlterEnumStmt"})
    example = "ALTER VIEW active_accounts RENAME TO current_accounts;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if stmt.kind == "AlterEnumStmt":
            if not node.get("oldVal"):
                return  # ADD VALUE: CAL049's
            what = f"enum value '{node['oldVal']}'"
        else:
            kind = _OBJECTS.get(str(node.get("renameType", "")))
            if kind is None:
                return
            what = kind
        yield self.finding(
            stmt, f"Renaming {what} breaks clients that still use its old name",
            "Create the new name beside the old one and move clients over, or silence this "
            "statement when nothing outside the migrations uses the name.",
            location=keyword_location(stmt, ("RENAME",)))
