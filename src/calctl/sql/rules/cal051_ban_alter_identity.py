from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import alter_cmds, option_locations
from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

_IDENTITY = {"AT_AddIdentity": "ADD GENERATED … AS IDENTITY",
             "AT_DropIdentity": "DROP IDENTITY"}


class BanAlterIdentity(StatementRule):
    """``ALTER COLUMN … ADD GENERATED … AS IDENTITY`` or ``DROP IDENTITY`` on an existing table.

    Problem: clients that insert into the table break: after ``ADD … GENERATED ALWAYS``
    an insert that supplies the column fails; after ``DROP IDENTITY`` one that leaves
    it out gets NULL (or fails on NOT NULL).
    Fix: change the clients first, or add a new column and move them over; then silence
    the statement with ``-- calctl: ignore CAL051``. ``SET GENERATED``, ``RESTART`` and
    ``SET INCREMENT`` are quiet, as in squawk. Quiet for a table created in the same file
    (see CAL011).
    """

    code = "CAL051"
    name = "ban-alter-identity"
    severity = "warning"
    squawk = ("ban-alter-identity",)
    kinds = frozenset({"AlterTableStmt"})
    example = "ALTER TABLE accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY;\n"

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        cmds = alter_cmds(stmt)
        hits = [i for i, cmd in enumerate(cmds) if cmd.get("subtype") in _IDENTITY]
        if not hits or scope.is_new_table(stmt.node.get("relation"), stmt):
            return
        where = option_locations(stmt)
        for i in hits:
            yield self.finding(
                stmt, f"{_IDENTITY[cmds[i]['subtype']]} on {cmds[i].get('name', '')} changes "
                      "how inserts from existing clients behave",
                "Change the clients that insert into the table first, then silence this "
                "statement.", location=where[i])
