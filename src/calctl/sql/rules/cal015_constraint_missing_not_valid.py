from __future__ import annotations

from collections.abc import Iterator

from calctl.sql.rules.ddl import (
    added_constraint,
    alter_cmds,
    char_location,
    cmd_spans,
    quote_ident,
    transactions,
)
from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

# the constraints PostgreSQL can add NOT VALID (and validate later)
_DEFERRABLE_CHECK = frozenset({"CONSTR_CHECK", "CONSTR_FOREIGN"})


class ConstraintMissingNotValid(StatementRule):
    """``ALTER TABLE … ADD CONSTRAINT`` that checks every row while it holds its lock.

    Problem: adding a CHECK, FOREIGN KEY, UNIQUE, PRIMARY KEY or EXCLUDE constraint
    scans the whole table to check the existing rows, blocking writes (CHECK and
    UNIQUE: reads too) until the scan ends. ``VALIDATE CONSTRAINT`` in the same
    transaction as the ``NOT VALID`` addition is no better: the addition's lock is
    still held while the validation scans.
    Fix: add the constraint ``NOT VALID`` (new rows are checked at once), then
    ``ALTER TABLE … VALIDATE CONSTRAINT …`` in another transaction: it scans under a
    lock that lets reads and writes go on. The fix does this for a named CHECK or
    FOREIGN KEY constraint, marking the file ``-- calctl: no-transaction`` when calctl
    would run it in one transaction; for UNIQUE and PRIMARY KEY, build the index
    ``CONCURRENTLY`` and add the constraint ``USING INDEX``. Quiet for a table created
    in the same file (see CAL011). squawk flags a VALIDATE in the same transaction only
    inside BEGIN … COMMIT (or with ``--assume-in-transaction``); calctl knows when it
    runs the whole file in one, and its fix then marks the file no-transaction.
    """

    code = "CAL015"
    name = "constraint-missing-not-valid"
    severity = "warning"
    squawk = ("constraint-missing-not-valid",)
    kinds = frozenset({"AlterTableStmt"})
    example = ("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n"
               "    FOREIGN KEY (customer_id) REFERENCES customers (id);\n")

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        blocks = transactions(scope)
        # calctl's own transaction is what joins the two: leaving it is the fix (not
        # for an explicit BEGIN … COMMIT, which the file would still run)
        explicit = any(s.kind == "TransactionStmt" for s in scope.statements)
        marker = (Edit(0, 0, "-- calctl: no-transaction\n"),) if (
            scope.transaction and scope.source.exact and not explicit) else ()
        pending: dict[str, int] = {}    # constraint added NOT VALID → its transaction
        for stmt in scope.statements:
            if stmt.kind != "AlterTableStmt":
                continue
            block = blocks[stmt.index]
            cmds = alter_cmds(stmt)
            spans: list[tuple[int, int]] | None = None
            new = scope.is_new_table(stmt.node.get("relation"), stmt)
            added_here: set[str] = set()
            for i, cmd in enumerate(cmds):
                constraint = added_constraint(cmd)
                if constraint is not None:
                    name = str(constraint.get("conname", ""))
                    if constraint.get("skip_validation"):
                        if block is not None and name:
                            pending[name] = block
                            added_here.add(name)
                    elif not constraint.get("indexname") and not new:
                        spans = spans if spans is not None else cmd_spans(stmt)[1]
                        yield self._missing(stmt, scope, i, spans)
                elif cmd.get("subtype") == "AT_ValidateConstraint":
                    name = str(cmd.get("name", ""))
                    if (block is not None and pending.get(name) == block
                            and name not in added_here and not new):
                        spans = spans if spans is not None else cmd_spans(stmt)[1]
                        yield self.finding(
                            stmt, f"VALIDATE CONSTRAINT {name} runs in the transaction that "
                                  "added it NOT VALID, so its lock is held while every row "
                                  "is checked",
                            "Validate in a separate transaction: another file, or mark this "
                            "one `-- calctl: no-transaction`.",
                            location=_at(stmt, spans, i), fix=marker,
                            fix_title="Mark the file `-- calctl: no-transaction`." if marker
                            else "")

    def _missing(self, stmt: Statement, scope: FileScope, i: int,
                 spans: list[tuple[int, int]]) -> Finding:
        constraint = added_constraint(alter_cmds(stmt)[i]) or {}
        fix = self._fix(stmt, scope, constraint, i, spans)
        return self.finding(
            stmt, "Adding a constraint checks every existing row while writes to the "
                  "table wait",
            "Add it NOT VALID, then VALIDATE CONSTRAINT in a separate transaction (UNIQUE "
            "and PRIMARY KEY: CREATE UNIQUE INDEX CONCURRENTLY, then ADD … USING INDEX).",
            location=_at(stmt, spans, i), fix=fix,
            fix_title="Add the constraint NOT VALID and validate it afterwards." if fix
            else "")

    @staticmethod
    def _fix(stmt: Statement, scope: FileScope, constraint: dict[str, object], i: int,
             spans: list[tuple[int, int]]) -> tuple[Edit, ...]:
        name = str(constraint.get("conname", ""))
        if (constraint.get("contype") not in _DEFERRABLE_CHECK or not name or not spans
                or not scope.source.exact or constraint.get("is_no_inherit")):
            return ()
        relation = cmd_spans(stmt)[0]
        if relation is None:
            return ()
        start = stmt.char()
        table = stmt.text[relation[0]:relation[1]]
        after = scope.source.text.find(";", start + spans[-1][1])
        at = start + spans[-1][1] if after < 0 else after + 1
        edits = [Edit(start + spans[i][1], start + spans[i][1], " NOT VALID"),
                 Edit(at, at, f"{'' if after >= 0 else ';'}\nALTER TABLE {table} "
                              f"VALIDATE CONSTRAINT {quote_ident(name)};")]
        if scope.transaction:
            edits.insert(0, Edit(0, 0, "-- calctl: no-transaction\n"))
        return tuple(edits)



def _at(stmt: Statement, spans: list[tuple[int, int]], i: int) -> int | None:
    return char_location(stmt, spans[i][0]) if spans else None
