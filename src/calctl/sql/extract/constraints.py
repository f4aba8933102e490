"""Table constraints as objects: what they need, the constraint itself (named, or
under the name PostgreSQL gives it), and the index a PRIMARY KEY, UNIQUE or EXCLUDE
constraint creates under the same name.

A constraint's identity is ``"<schema>.<table>.<name>"`` (kind ``constraint``); its
index is ``"<schema>.<name>"`` in the relation namespace, and records the constraint
it belongs to in ``new`` (``names`` links the two: dropping or renaming one drops or
renames the other).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from calctl.sql.extract.core import NO_OUTPUTS, Node, Scope, scope_of, strs
from calctl.sql.extract.types import Types
from calctl.sql.facts import CREATE, DROP, REF, RENAME

# PostgreSQL's label for the default name of each kind (ChooseConstraintName)
_LABEL = {"CONSTR_PRIMARY": "pkey", "CONSTR_UNIQUE": "key", "CONSTR_EXCLUSION": "excl",
          "CONSTR_FOREIGN": "fkey", "CONSTR_CHECK": "check"}
_INDEXED = frozenset({"CONSTR_PRIMARY", "CONSTR_UNIQUE", "CONSTR_EXCLUSION"})
MAX_NAME = 63  # NAMEDATALEN - 1: a longer default is truncated, which is not modelled


def default_name(table: str, contype: str, columns: Sequence[str]) -> str:
    """The name PostgreSQL gives an unnamed constraint of ``table`` (unqualified), or
    "" when it cannot be told here (too long: PostgreSQL truncates the parts)."""
    label = _LABEL.get(contype)
    if label is None:
        return ""
    if contype == "CONSTR_PRIMARY" or not columns:
        name = f"{table}_{label}"
    else:
        name = f"{table}_{'_'.join(columns)}_{label}"
    return name if len(name.encode()) <= MAX_NAME else ""


def _column_refs(node: object) -> Iterator[str]:
    """The column names an expression reads (the last part of each ColumnRef)."""
    if isinstance(node, dict):
        ref = node.get("ColumnRef")
        if ref is not None:
            fields = strs(ref.get("fields"))
            if fields:
                yield fields[-1]
            return
        for value in node.values():
            yield from _column_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _column_refs(value)


def _element_name(pair: Node) -> str:
    """The column of one ``EXCLUDE`` element (``col WITH op``); "expr" for an
    expression, as PostgreSQL names it."""
    items = (pair.get("List") or {}).get("items") or [{}]
    elem = items[0].get("IndexElem") or {}
    name = elem.get("name")
    return name if isinstance(name, str) and name else "expr"


class Constraints(Types):
    """Constraints in CREATE TABLE and ALTER TABLE, and DROP/RENAME CONSTRAINT."""

    def constraint(self, table: tuple[str, ...], con: Node, scope: Scope,
                   column: str = "") -> None:
        contype = con.get("contype", "")
        if contype == "CONSTR_NOTNULL":
            return  # the commonest: nothing to read, and never an object to order by
        columns: Sequence[str] = ()
        if contype == "CONSTR_FOREIGN":
            pk = con.get("pktable") or {}
            target = self.ref_relation(pk)
            self.ref_columns(target, strs(con.get("pk_attrs")), pk)
            columns = strs(con.get("fk_attrs"))
            self.ref_columns(table, columns, con)
        elif contype in _INDEXED:
            columns = strs(con.get("keys"))
            self.ref_columns(table, columns, con)
            if con.get("exclusions"):
                self.walk(con["exclusions"], scope_of(scope, scope))
                columns = [_element_name(pair) for pair in con["exclusions"]]
        # (membership tests: most constraints have neither; walk() ignores empty values)
        if "raw_expr" in con:
            expr = con["raw_expr"]
            if "FuncCall" in expr:  # DEFAULT now() and the like: walk(), one call fewer
                self.func_call(expr["FuncCall"], scope_of(scope, scope), NO_OUTPUTS)
            else:
                self.walk(expr, scope_of(scope, scope))
            if contype == "CONSTR_CHECK":
                read = sorted(set(_column_refs(expr)))
                columns = read if len(read) == 1 else ()
                column = ""  # named after what the expression reads, not where it sits
        if "where_clause" in con:
            self.walk(con["where_clause"], scope_of(scope, scope))
        if contype in _LABEL and table:
            self.add_constraint(table[0], con, contype, columns or ((column,) if column else ()))

    def add_constraint(self, table: str, con: Node, contype: str,
                       columns: Sequence[str]) -> None:
        schema, _, relname = table.rpartition(".")
        name = con.get("conname") or default_name(relname, contype, columns)
        if not name:
            return
        identity = f"{table}.{name}"
        existing = con.get("indexname")
        if existing:  # ADD … USING INDEX i: the index becomes the constraint's, renamed
            self.add(CREATE, "constraint", (identity,), con, "constraint")
            index = self.ref_names([schema, existing], "relation")
            self.add(REF, "relation", index, con, "index")
            if existing != name:
                self.add(RENAME, "relation", index, con, "index", new=f"{schema}.{name}")
            return
        # an indexed constraint is one fact, the index naming its constraint
        # (facts.summarise and names.resolve provide the constraint from it)
        fact = (CREATE, "relation", (f"{schema}.{name}",), *self.where(con), "index",
                self.weak or self.idempotent, identity, False) if contype in _INDEXED else \
            (CREATE, "constraint", (identity,), *self.where(con), "constraint",
             self.weak or self.idempotent, "", False)
        # (appended directly, as ref_column does: one or two for most tables; add()'s
        # schema reference is the table's already, and in a DO block it is guarded)
        self.facts.append(fact)

    def drop_constraint(self, table: tuple[str, ...], rv: Node, cmd: Node,
                        guarded: bool) -> None:
        """``ALTER TABLE t DROP CONSTRAINT c`` (the index it owns goes with it: see
        names._constraint_indexes)."""
        name = cmd.get("name", "")
        missing_ok = bool(cmd.get("missing_ok")) or guarded
        names = tuple(f"{t}.{name}" for t in table)
        if not missing_ok:
            self.add(REF, "constraint", names, rv, "constraint")
        self.add(DROP, "constraint", names, rv, "constraint", guarded=missing_ok)

    def rename_constraint(self, st: Node, rv: Node, guarded: bool) -> None:
        table = self.ref_names(self.rel_parts(rv), "relation")
        if not table:
            return
        if not guarded:
            self.ref_relation(rv)
        old, new = st.get("subname", ""), st.get("newname", "")
        names = tuple(f"{t}.{old}" for t in table)
        if not guarded:
            self.add(REF, "constraint", names, rv, "constraint")
        self.add(RENAME, "constraint", names, rv, "constraint", guarded=guarded,
                 new=f"{table[0]}.{new}")
