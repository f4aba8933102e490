from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import keyword_location
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

# what squawk flags: objects clients name (not collations, operators, text search…)
_KINDS = frozenset({
    "OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE",
    "OBJECT_FUNCTION", "OBJECT_PROCEDURE", "OBJECT_ROUTINE", "OBJECT_AGGREGATE", "OBJECT_TYPE",
    "OBJECT_DOMAIN", "OBJECT_EXTENSION",
})


class BanSetSchema(StatementRule):
    """``ALTER … SET SCHEMA`` of a table, view, sequence, function, type or extension.

    Problem: clients that name the object by its old schema (or find it through their
    search_path) stop finding it the moment the statement commits.
    Fix: create the object in the new schema and migrate clients, or keep the old name
    reachable (a view, a wrapper function) while they move. Quiet for a table created
    in the same file (see CAL011), and, as squawk, for collations, operators,
    conversions, statistics and text search objects.
    """

    code = "CAL028"
    name = "ban-set-schema"
    severity = "warning"
    squawk = ("ban-set-schema",)
    kinds = frozenset({"AlterObjectSchemaStmt"})
    example = "ALTER TABLE accounts SET SCHEMA billing;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if node.get("objectType") not in _KINDS:
            return
        relation = node.get("relation")
        if relation and scope.is_new_table(relation, stmt):
            return
        yield self.finding(
            stmt, f"Moving an object to schema {node.get('newschema', '')} breaks clients "
                  "that use its old name", "Keep the old name reachable until every client "
                                           "uses the new schema.",
            location=keyword_location(stmt, ("SET", "SCHEMA")))
