from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.statement import Edit, FileScope, Finding, StatementRule
from calctl.sql.rules.textpos import alter_actions, line_column, search
from calctl.sql.statements import Statement

_CREATE_INDEX = re.compile(r"(?i:CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:CONCURRENTLY\s+)?)")
_CREATE_TABLE = re.compile(r"(?i:CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?"
                           r"(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+)")
_DROP = re.compile(r"(?i:DROP\s+(?:INDEX\s+(?:CONCURRENTLY\s+)?|TABLE\s+|TYPE\s+))")
_DROPS = {"OBJECT_INDEX": "DROP INDEX", "OBJECT_TABLE": "DROP TABLE", "OBJECT_TYPE": "DROP TYPE"}
_ACTION = {  # ALTER TABLE action → (its words, what it lacks, how it starts)
    "AT_AddColumn": ("ADD COLUMN", "IF NOT EXISTS", r"(?i:ADD\s+(?:COLUMN\s+)?)"),
    "AT_DropColumn": ("DROP COLUMN", "IF EXISTS", r"(?i:DROP\s+(?:COLUMN\s+)?)"),
    "AT_DropConstraint": ("DROP CONSTRAINT", "IF EXISTS", r"(?i:DROP\s+CONSTRAINT\s+)"),
}
_RENAMES = {"OBJECT_TABLE": "RENAME TO", "OBJECT_TABCONSTRAINT": "RENAME CONSTRAINT",
            "OBJECT_COLUMN": "RENAME COLUMN"}
_RENAME = re.compile(r"(?i:\bRENAME\b|\bSET\s+SCHEMA\b)")
_HINT_TX = ("Run it in a transaction: move it to a file without `-- calctl: no-transaction` "
            "and without statements that force autocommit.")


class PreferRobustStmts(StatementRule):
    """A statement that cannot be run again, in a file that runs outside a transaction.

    Problem: outside a transaction each statement commits on its own; when a later
    one fails, the file is fixed and run again, and ``CREATE TABLE`` / ``CREATE
    INDEX`` / ``ADD COLUMN`` now fail on what the first run created (``DROP …`` on
    what it dropped), while an ``ALTER TABLE`` action that cannot say ``IF [NOT]
    EXISTS`` (``ADD CONSTRAINT``, ``SET NOT NULL``…) cannot be made rerunnable at all.
    Fix: ``IF NOT EXISTS`` / ``IF EXISTS`` (the fix inserts it into ``CREATE TABLE``,
    ``CREATE INDEX``, ``ADD COLUMN``, ``DROP COLUMN``, ``DROP CONSTRAINT``, ``DROP
    INDEX/TABLE/TYPE``); move the other actions to a file that runs in a transaction. calctl
    runs every file in one transaction unless it is marked ``-- calctl: no-transaction``,
    named ``*.autocommit.sql`` or holds a statement that cannot run in one (``CREATE INDEX
    CONCURRENTLY``…): a failed file leaves nothing behind, so the rule is quiet in every
    other file, as squawk is with ``--assume-in-transaction`` (without it, squawk fires
    unless the file says ``BEGIN``). A file's own ``BEGIN``/``COMMIT`` does not count:
    calctl drops them. As squawk: quiet for an unnamed ``CREATE INDEX``, a ``CREATE TEMP
    TABLE … ON COMMIT DROP``, and re-adding or validating a constraint the file dropped
    before. Any PostgreSQL version.
    """

    code = "CAL041"
    name = "prefer-robust-stmts"
    severity = "warning"
    squawk = ("prefer-robust-stmts",)
    kinds = frozenset({"AlterTableStmt", "IndexStmt", "CreateStmt", "DropStmt", "RenameStmt",
                       "AlterObjectSchemaStmt"})
    example = ("-- calctl: no-transaction\n"
               "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n")

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        if scope.transaction:
            return
        dropped: dict[str, bool] = {}  # constraint dropped in this file → added again
        for stmt in scope.statements:
            node = stmt.node
            if stmt.kind == "AlterTableStmt" and node.get("objtype") == "OBJECT_TABLE":
                yield from self._alter(stmt, scope, dropped)
            elif stmt.kind == "IndexStmt":
                if not node.get("if_not_exists") and node.get("idxname"):
                    yield self._missing(stmt, scope, "CREATE INDEX", "IF NOT EXISTS",
                                        _CREATE_INDEX)
            elif stmt.kind == "CreateStmt":
                temporary = (node.get("relation") or {}).get("relpersistence") == "t"
                if not node.get("if_not_exists") and not (
                        temporary and node.get("oncommit") == "ONCOMMIT_DROP"):
                    yield self._missing(stmt, scope, "CREATE TABLE", "IF NOT EXISTS",
                                        _CREATE_TABLE)
            elif stmt.kind in ("RenameStmt", "AlterObjectSchemaStmt"):
                yield from self._rename(stmt, scope)
            elif stmt.kind == "DropStmt":
                what = _DROPS.get(node.get("removeType", ""))
                if what and not node.get("missing_ok"):
                    yield self._missing(stmt, scope, what, "IF EXISTS", _DROP)

    def _missing(self, stmt: Statement, scope: FileScope, what: str, lacks: str,
                 head: re.Pattern[str]) -> Finding:
        found = head.match(scope.source.text, stmt.char(), stmt.char_end)
        fix = ((Edit(found.end(), found.end(), lacks + " "),)
               if found and scope.source.exact else ())
        return self.finding(stmt, self._message(what, lacks), f"Write {what} {lacks}.",
                            fix=fix, fix_title=f"Add {lacks}.")

    @staticmethod
    def _message(what: str, lacks: str) -> str:
        return (f"{what} without {lacks} fails when this file, which runs outside a "
                "transaction, is run again after failing part way")

    def _alter(self, stmt: Statement, scope: FileScope,
               dropped: dict[str, bool]) -> Iterator[Finding]:
        starts: list[int] | None = None  # where each action starts, found when needed
        for index, item in enumerate(stmt.node.get("cmds") or ()):
            cmd = item.get("AlterTableCmd") or {}
            sub = cmd.get("subtype", "")
            name = str(cmd.get("name", ""))
            if sub == "AT_DropConstraint":
                dropped[name] = False
            elif sub == "AT_ValidateConstraint" and name in dropped:
                continue
            elif sub == "AT_AddConstraint":
                con = (cmd.get("def") or {}).get("Constraint") or {}
                added = str(con.get("conname") or "")
                if added and dropped.get(added) is False:
                    dropped[added] = True
                    continue
            if sub in _ACTION and cmd.get("missing_ok"):
                continue
            if starts is None:
                starts = alter_actions(stmt, scope) or []
            at = starts[index] if index < len(starts) else None
            line, column = (stmt.pos() if at is None
                            else line_column(scope.source.text, at))
            if sub not in _ACTION:
                words = re.sub(r"(?<!^)(?=[A-Z])", " ", sub[3:]).upper()
                yield Finding(line, column, f"ALTER TABLE … {words} cannot be undone if the "
                              "file, which runs outside a transaction, fails part way",
                              _HINT_TX)
                continue
            what, lacks, words = _ACTION[sub]
            fix: tuple[Edit, ...] = ()
            head = (re.compile(words).match(scope.source.text, at)
                    if at is not None and scope.source.exact else None)
            if head is not None:
                fix = (Edit(head.end(), head.end(), lacks + " "),)
            yield Finding(line, column, self._message(what, lacks), f"Write {what} {lacks}.",
                          fix, f"Add {lacks}.")

    def _rename(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        """squawk counts a table's renames and SET SCHEMA as ALTER TABLE actions."""
        node = stmt.node
        if stmt.kind == "AlterObjectSchemaStmt":
            words = "SET SCHEMA" if node.get("objectType") == "OBJECT_TABLE" else ""
        else:
            kind = node.get("renameType", "")
            words = _RENAMES.get(kind, "")
            if kind == "OBJECT_COLUMN" and node.get("relationType") != "OBJECT_TABLE":
                words = ""
        if not words:
            return
        found = search(stmt, scope, _RENAME)
        line, column = (stmt.pos() if found is None
                        else line_column(scope.source.text, found.start()))
        yield Finding(line, column, f"ALTER TABLE … {words} cannot be undone if the file, "
                      "which runs outside a transaction, fails part way", _HINT_TX)
