"""What several of squawk's rules read from a statement: ALTER TABLE's subcommands and
where each is written, constraints, and whether a statement may wait on a lock.

pglast's ``AlterTableCmd`` has no location; squawk points at the subcommand (the line
of ``DROP NOT NULL`` in a multi-line ALTER TABLE), so :func:`cmd_locations` finds each
one with PostgreSQL's scanner, run on the statement's text only when a rule fires.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from calctl.sql.statements import Statement

if TYPE_CHECKING:
    from calctl.sql.rules.statement import FileScope

Node = dict[str, Any]

# Statements squawk's require-lock-timeout / require-statement-timeout pass over: they
# take no lock worth waiting for (DML, session commands, grants). Every other statement
# is DDL (ALTER/CREATE/DROP of anything, COMMENT, CLUSTER, LOCK, REFRESH, REINDEX,
# TRUNCATE, VACUUM, LOAD, IMPORT FOREIGN SCHEMA…) and counts as "possibly slow".
_NOT_SLOW = frozenset({
    "SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt", "DoStmt",
    "CallStmt", "CopyStmt", "VariableSetStmt", "VariableShowStmt", "TransactionStmt",
    "ExplainStmt", "GrantStmt", "GrantRoleStmt", "ReassignOwnedStmt", "SecLabelStmt",
    "CheckPointStmt", "DiscardStmt", "NotifyStmt", "ListenStmt", "UnlistenStmt",
    "PrepareStmt", "ExecuteStmt", "DeallocateStmt", "DeclareCursorStmt", "FetchStmt",
    "ClosePortalStmt", "ConstraintsSetStmt", "PLAssignStmt", "ReturnStmt",
})


_CMDS = "\0cmds"  # not a field name pglast can write
TABLES = frozenset({"OBJECT_TABLE"})
# what squawk also reads for the rules about breaking clients: a foreign table's and a
# composite type's columns are read too, though no local rows are rewritten
COLUMNS = frozenset({"OBJECT_TABLE", "OBJECT_FOREIGN_TABLE", "OBJECT_TYPE"})


def possibly_slow(stmt: Statement) -> bool:
    """Whether squawk counts the statement as one that may wait on (or hold) a lock."""
    kind, node = stmt.kind, stmt.node
    if kind == "CreateStmt":
        # a plain CREATE TABLE locks nothing that exists; a foreign key locks its target
        return any(c.get("contype") == "CONSTR_FOREIGN" for c in table_constraints(node))
    if kind == "SelectStmt":
        return bool(node.get("intoClause"))      # SELECT … INTO creates a table
    if kind == "VacuumStmt":
        return bool(node.get("is_vacuumcmd"))    # ANALYZE alone is not
    return kind not in _NOT_SLOW


def table_constraints(create: Node) -> Iterator[Node]:
    """The constraints of a CREATE TABLE: its table constraints and its columns'."""
    for element in create.get("tableElts") or ():
        if "Constraint" in element:
            yield element["Constraint"]
        elif "ColumnDef" in element:
            for item in element["ColumnDef"].get("constraints") or ():
                yield item.get("Constraint", {})


def alter_cmds(stmt: Statement, objects: frozenset[str] = TABLES) -> list[Node]:
    """The subcommands of an ALTER TABLE (``AlterTableCmd`` fields), in order; none when
    the statement alters another kind of object than ``objects`` (ALTER VIEW, INDEX,
    FOREIGN TABLE, TYPE … ALTER ATTRIBUTE share its tree)."""
    node = stmt.node
    if node.get("objtype") not in objects:
        return []
    # a dozen rules read every ALTER TABLE: unwrap its subcommands once, in the tree
    cmds: list[Node] | None = node.get(_CMDS)
    if cmds is None:
        cmds = node[_CMDS] = [item.get("AlterTableCmd", {}) for item in node.get("cmds") or ()]
    return cmds


def column_constraints(cmd: Node) -> list[Node]:
    """The constraints of the column an ``ADD COLUMN`` subcommand adds."""
    column = (cmd.get("def") or {}).get("ColumnDef") or {}
    return [item.get("Constraint", {}) for item in column.get("constraints") or ()]


def added_constraint(cmd: Node) -> Node | None:
    """The constraint an ``ADD CONSTRAINT`` subcommand adds."""
    if cmd.get("subtype") != "AT_AddConstraint":
        return None
    constraint: Node | None = (cmd.get("def") or {}).get("Constraint")
    return constraint


def added_constraints(stmt: Statement) -> Iterator[Node]:
    """Every constraint an ``ALTER TABLE`` adds: by ``ADD CONSTRAINT``, or with a column
    ``ADD COLUMN`` adds."""
    for cmd in alter_cmds(stmt):
        if cmd.get("subtype") == "AT_AddConstraint":
            constraint = added_constraint(cmd)
            if constraint:
                yield constraint
        elif cmd.get("subtype") == "AT_AddColumn":
            yield from (c for c in column_constraints(cmd) if c)


_COMMENTS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def _tokens(stmt: Statement) -> list[tuple[int, str, int]]:
    """(start, scanner name, end) of the statement's tokens, comments left out; ends are
    exclusive character offsets of its text."""
    from calctl.sql.extract.core import load_parser

    # the statement parsed, so the scanner reads all of it
    return [(t.start, t.name, t.end + 1) for t in load_parser().scan(stmt.text)
            if t.name not in _COMMENTS]


def char_location(stmt: Statement, char: int) -> int:
    """A parser location (bytes from ``stmt.base``) of a character offset in its text."""
    text = stmt.text
    size = char if text.isascii() else len(text[:char].encode("utf-8"))
    return stmt.start - stmt.base + size


def cmd_spans(stmt: Statement) -> tuple[tuple[int, int] | None, list[tuple[int, int]]]:
    """Where an ALTER TABLE's relation name and each of its subcommands (or the one
    action of a RENAME/SET SCHEMA… of a relation) are written, as character ranges of
    the statement's text (end: just after the last token); no subcommands when they
    cannot be told apart."""
    count = len(stmt.node.get("cmds") or [None])
    relation = stmt.node.get("relation") or {}
    where = relation.get("location", -1)
    tokens = _tokens(stmt)
    if where < 0 or not tokens:
        return None, []
    # the qualified name (ident . ident . ident) and an inheritance star
    rel_char = _char_of(stmt, where)
    i = next((k for k, token in enumerate(tokens) if token[0] >= rel_char), len(tokens))
    if i == len(tokens):
        return None, []
    first = i
    i += 1
    while i + 1 < len(tokens) and tokens[i][1] == "ASCII_46":
        i += 2
    name = (tokens[first][0], tokens[i - 1][2])
    if i < len(tokens) and tokens[i][1] == "ASCII_42":
        i += 1
    spans: list[list[int]] = []
    depth = 0
    expect = True
    for start, kind, end in tokens[i:]:
        if kind == "ASCII_59":
            break
        if expect:
            spans.append([start, end])
            expect = False
        if kind in ("ASCII_40", "ASCII_91"):
            depth += 1
        elif kind in ("ASCII_41", "ASCII_93"):
            depth -= 1
        elif kind == "ASCII_44" and depth == 0:
            expect = True
            continue
        spans[-1][1] = end
    if len(spans) != count:
        return name, []
    return name, [(a, b) for a, b in spans]


def cmd_locations(stmt: Statement) -> list[int | None]:
    """Where each subcommand of an ALTER TABLE starts, as parser locations (``None``
    where it cannot be told)."""
    spans = cmd_spans(stmt)[1]
    if not spans:
        return [None] * len(stmt.node.get("cmds") or [None])
    return [char_location(stmt, start) for start, _ in spans]


def option_locations(stmt: Statement) -> list[int | None]:
    """Where each subcommand's option is written, as parser locations: for
    ``ALTER [COLUMN] name SET NOT NULL`` (``TYPE …``, ``DROP NOT NULL``…) its option, where
    squawk points; for other subcommands their start."""
    spans = cmd_spans(stmt)[1]
    if not spans:
        return [None] * len(stmt.node.get("cmds") or [None])
    tokens = _tokens(stmt)
    found: list[int | None] = []
    for start, end in spans:
        inside = [t for t in tokens if start <= t[0] < end]
        at = start
        if inside and inside[0][1] == "ALTER":
            skip = 3 if len(inside) > 1 and inside[1][1] == "COLUMN" else 2
            if len(inside) > skip:
                at = inside[skip][0]
        found.append(char_location(stmt, at))
    return found


def keyword_location(stmt: Statement, names: tuple[str, ...], after: int | None = None,
                     ) -> int | None:
    """The parser location of the first run of tokens ``names`` (scanner names such as
    ``SET``, ``SCHEMA``) at or after the location ``after``."""
    tokens = _tokens(stmt)
    from_char = _char_of(stmt, after) if after is not None else 0
    kinds = [kind for _, kind, _ in tokens]
    for k, (start, _, _) in enumerate(tokens):
        if start >= from_char and tuple(kinds[k:k + len(names)]) == names:
            return char_location(stmt, start)
    return None


def _char_of(stmt: Statement, location: int) -> int:
    """The character offset in the statement's text of a parser location."""
    offset = stmt.base + location - stmt.start
    data = stmt.source.data[stmt.start:stmt.start + max(offset, 0)]
    return len(data.decode("utf-8", errors="ignore"))


def object_names(node: Node) -> list[tuple[str, ...]]:
    """The names a DROP statement lists, each as its parts."""
    found = []
    for item in node.get("objects") or ():
        parts = item.get("List", {}).get("items") or ()
        found.append(tuple(str(p.get("String", {}).get("sval", "")) for p in parts))
    return found


def index_is_new(scope: FileScope, names: tuple[str, ...], stmt: Statement) -> bool:
    """Whether the index was created earlier in the file on a table new at ``stmt``."""
    if not names:
        return False
    for earlier in scope.statements[:stmt.index]:
        node = earlier.node
        if earlier.kind != "IndexStmt" or node.get("idxname") != names[-1]:
            continue
        relation = node.get("relation") or {}
        schema = relation.get("schemaname") or scope.default_schema
        if len(names) > 1 and names[-2] != schema:
            continue
        return scope.is_new_table(relation, stmt)
    return False


def end_char(stmt: Statement) -> int | None:
    """The character offset in the file's text just after the statement's last token
    (before its semicolon, trailing blanks and comments)."""
    ends = [end for _, kind, end in _tokens(stmt) if kind != "ASCII_59"]
    return stmt.char() + ends[-1] if ends else None


def transactions(scope: FileScope) -> list[int | None]:
    """For each statement, which transaction it runs in (an id), ``None`` for its own:
    the whole file's when calctl runs it in one, else each BEGIN … COMMIT block's."""
    found: list[int | None] = []
    block: int | None = 0 if scope.transaction else None
    count = 0
    for stmt in scope.statements:
        kind = stmt.node.get("kind", "") if stmt.kind == "TransactionStmt" else ""
        if kind in ("TRANS_STMT_BEGIN", "TRANS_STMT_START") and not scope.transaction:
            count += 1
            block = count
        found.append(block)
        if kind in ("TRANS_STMT_COMMIT", "TRANS_STMT_ROLLBACK") and not scope.transaction:
            block = None
    return found


def quote_ident(name: str) -> str:
    """``name`` as SQL writes it: bare when PostgreSQL reads it back unchanged."""
    from calctl.sql.extract.core import load_parser

    tokens: list[Any] = list(load_parser().scan(name)) if name else []
    if (len(tokens) == 1 and tokens[0].name == "IDENT" and name == name.lower()
            and tokens[0].end + 1 == len(name)):
        return name
    return '"' + name.replace('"', '""') + '"'
