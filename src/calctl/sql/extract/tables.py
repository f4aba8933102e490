"""Tables and the objects that hang off them: columns, constraints, indexes, views,
sequences, policies, renames, drops, comments and grants."""

from __future__ import annotations

import re

from calctl.sql.extract.constraints import MAX_NAME, Constraints
from calctl.sql.extract.core import (
    BUILTIN_SCHEMAS,
    FUNC_DISPLAY,
    REL_DISPLAY,
    SERIAL_TYPES,
    TYPE_DISPLAY,
    Node,
    Scope,
    scope_of,
    strs,
    sval,
)
from calctl.sql.extract.functions import signature
from calctl.sql.facts import ALTER, CREATE, DROP, REF, RENAME, REPLACE, STAR, WEAK, WRITES


class Tables(Constraints):
    """DDL on relations and the objects named through them."""

    def st_CreateStmt(self, st: Node, display: str = "table") -> None:
        rv = st.get("relation") or {}
        table = self.create_name(self.rel_parts(rv))
        open_ = bool(st.get("inhRelations") or st.get("ofTypename"))
        for elt in st.get("tableElts") or []:
            if "TableLikeClause" in elt:
                open_ = True
        guarded = bool(st.get("if_not_exists"))
        self.add(CREATE, "relation", (table,), rv, display, guarded=guarded, open_=open_)
        for parent in st.get("inhRelations") or []:
            if "RangeVar" in parent:
                self.ref_relation(parent["RangeVar"])
        if st.get("ofTypename"):
            self.ref_type(st["ofTypename"])
        own = (table,)
        scope: Scope = {rv.get("relname", ""): own}
        for elt in st.get("tableElts") or []:
            if "ColumnDef" in elt:
                self.column_def(own, elt["ColumnDef"], scope, guarded=guarded)
            elif "Constraint" in elt:
                self.constraint(own, elt["Constraint"], scope)
            elif "TableLikeClause" in elt:
                self.ref_relation(elt["TableLikeClause"].get("relation") or {})
        if st.get("partspec"):
            self.walk(st["partspec"], scope_of(scope, scope))

    def st_CreateForeignTableStmt(self, st: Node) -> None:
        self.st_CreateStmt(st.get("base") or {}, "foreign table")

    def column_def(self, table: tuple[str, ...], cd: Node,
                   scope: Scope, *, guarded: bool = False) -> None:
        col = cd.get("colname", "")
        self.ref_column(f"{table[0]}.{col}", cd, CREATE, guarded or self.idempotent)
        tnames: tuple[str, ...] = ()
        if "typeName" in cd:
            tn = cd["typeName"]
            if tn:
                tnames = strs(tn.get("names"))
                self.ref_type_names(tn, tnames)
        if tnames and tnames[-1] in SERIAL_TYPES:
            schema, _, rel = table[0].partition(".")
            self.add(CREATE, "relation", (f"{schema}.{rel}_{col}_seq",), cd, "sequence")
        if "constraints" in cd:
            for con in cd["constraints"]:
                constraint = con.get("Constraint") or {}
                if constraint.get("contype") == "CONSTR_IDENTITY":
                    schema, _, rel = table[0].partition(".")
                    self.add(CREATE, "relation", (f"{schema}.{rel}_{col}_seq",), cd,
                             "sequence")
                self.constraint(table, constraint, scope, col)
        if "raw_default" in cd:  # (walk() ignores an empty value)
            self.walk(cd["raw_default"], scope_of(scope, scope))

    def st_CreateTableAsStmt(self, st: Node) -> None:
        into = st.get("into") or {}
        rv = into.get("rel") or {}
        display = "materialized view" if st.get("objtype") == "OBJECT_MATVIEW" else "table"
        self.add(CREATE, "relation", (self.create_name(self.rel_parts(rv)),), rv, display,
                 guarded=bool(st.get("if_not_exists")), open_=True)
        self.walk(st.get("query"))

    def st_ViewStmt(self, st: Node) -> None:
        rv = st.get("view") or {}
        action = REPLACE if st.get("replace") else CREATE
        name = self.create_name(self.rel_parts(rv))
        self.add(action, "relation", (name,), rv, "view", open_=True)
        query = st.get("query")
        if _unwritable((query or {}).get("SelectStmt")):
            self.add(WEAK, WRITES, (name,), rv, "view")
        if query and "SelectStmt" in query:  # what walk() does with it, two calls fewer
            self.select(query["SelectStmt"], None)
            for star in _star_tables(query["SelectStmt"]):
                self.add(WEAK, STAR, self.ref_names(self.rel_parts(star), "relation"), star,
                         "view")
        else:
            self.walk(query)

    def st_IndexStmt(self, st: Node) -> None:
        rv = st.get("relation") or {}
        table = self.ref_relation(rv)
        if st.get("idxname"):
            schema = rv.get("schemaname")
            parts = [schema, st["idxname"]] if schema else [st["idxname"]]
            self.add(CREATE, "relation", (self.create_name(parts),), rv, "index",
                     guarded=bool(st.get("if_not_exists")))
        elif table:
            self.unnamed_index(table[0], st)
        scope: Scope = {rv.get("relname", ""): table or None}
        for param in st.get("indexParams") or []:
            elem = param.get("IndexElem") or {}
            if elem.get("name"):
                self.ref_columns(table, [elem["name"]], rv)
            if elem.get("expr"):
                self.walk(elem["expr"], scope_of(scope, scope))
        for param in st.get("indexIncludingParams") or []:
            name = (param.get("IndexElem") or {}).get("name")
            if name:
                self.ref_columns(table, [name], rv)
        if st.get("whereClause"):
            self.walk(st["whereClause"], scope_of(scope, scope))
        if st.get("concurrent"):
            self.non_transactional(st, "CREATE INDEX CONCURRENTLY")

    def unnamed_index(self, table: str, st: Node) -> None:
        """``CREATE INDEX ON t (a, lower(b)) INCLUDE (c)`` makes ``t_a_lower_c_idx`` in the
        table's schema, which a later file may drop or rename by that name. Guarded,
        like IF NOT EXISTS, and *open* (a guess): PostgreSQL picks another name
        (``…_idx1``) when that one is taken, so the fact only orders a later use after
        it; a use before it stays unbound (names.resolve), never an alarm."""
        columns: list[str] = []
        for param in (st.get("indexParams") or []) + (st.get("indexIncludingParams") or []):
            elem = param.get("IndexElem") or {}
            expr = elem.get("expr") or {}
            name = elem.get("name") or ""
            if "FuncCall" in expr:
                name = (strs(expr["FuncCall"].get("funcname")) or ("",))[-1]
            elif (expr.get("A_Expr") or {}).get("kind") == "AEXPR_OP":
                name = "expr"
            if not name or name in columns:
                return  # other expressions, and repeated names (…_a1_…): not modelled
            columns.append(name)
        schema, _, relname = table.rpartition(".")
        name = f"{relname}_{'_'.join(columns)}_idx"
        if columns and len(name.encode()) <= MAX_NAME:  # (longer: truncated, not modelled)
            self.add(CREATE, "relation", (f"{schema}.{name}",), st.get("relation") or {},
                     "index", guarded=True, open_=True)

    def st_AlterTableStmt(self, st: Node) -> None:
        rv = st.get("relation") or {}
        if st.get("objtype") == "OBJECT_TYPE":
            self.alter_composite_type(rv, st)
            return
        display = REL_DISPLAY.get(st.get("objtype", ""), "table")
        guarded = bool(st.get("missing_ok"))
        table = self.ref_relation(rv, display, guarded=guarded)
        if not table:
            table = self.ref_names(self.rel_parts(rv), "relation")
        if not table:
            return
        self.add(ALTER, "relation", table, rv, display, guarded=guarded)
        scope: Scope = {rv.get("relname", ""): table}
        for cmd in st.get("cmds") or []:
            self.alter_cmd(table, rv, cmd.get("AlterTableCmd") or {}, scope, guarded)

    def alter_composite_type(self, rv: Node, st: Node) -> None:
        """``ALTER TYPE t ADD|DROP|ALTER ATTRIBUTE …``, which PostgreSQL parses as an ALTER
        TABLE of the composite type: it needs the type (not a table of that name) and the
        types its attributes take; attributes are not tracked like columns."""
        names = self.ref_names(self.rel_parts(rv), "type")
        self.add(REF, "type", names, rv, "type")  # (ALTER TYPE has no IF EXISTS)
        self.add(ALTER, "type", names, rv, "type")
        for item in st.get("cmds") or []:
            cd = ((item.get("AlterTableCmd") or {}).get("def") or {}).get("ColumnDef") or {}
            self.ref_type(cd.get("typeName"))

    def alter_cmd(self, table: tuple[str, ...], rv: Node, cmd: Node,
                  scope: Scope, guarded: bool) -> None:
        sub = cmd.get("subtype", "")
        name = cmd.get("name", "")
        if sub == "AT_AddColumn":
            cd = (cmd.get("def") or {}).get("ColumnDef") or {}
            self.column_def((table[0],), cd, scope, guarded=bool(cmd.get("missing_ok")))
            return
        if sub == "AT_DropColumn":
            missing_ok = bool(cmd.get("missing_ok")) or guarded
            cols = tuple(f"{t}.{name}" for t in table)
            if not missing_ok:
                self.add(REF, "column", cols, rv, "column")
            # (CASCADE takes what depends on the column with it: a drop that cannot fail
            # on them, marked like IF EXISTS)
            self.add(DROP, "column", cols, rv, "column",
                     guarded=missing_ok or cmd.get("behavior") == "DROP_CASCADE")
            # IF EXISTS only says the column may be gone already; if not, its data goes
            self.destructive(rv, f"DROP COLUMN {name}", _drop_column(name))
            return
        if sub == "AT_AddConstraint":
            con = (cmd.get("def") or {}).get("Constraint") or {}
            self.constraint(table, con, scope)
            return
        if sub == "AT_DropConstraint":
            self.drop_constraint(table, rv, cmd, guarded)
            return
        if sub == "AT_ValidateConstraint" and name and not guarded:
            self.add(REF, "constraint", tuple(f"{t}.{name}" for t in table), rv, "constraint")
            return
        if sub == "AT_AttachPartition":
            part = (cmd.get("def") or {}).get("PartitionCmd") or {}
            if part.get("name"):
                self.ref_relation(part["name"])
            return
        if name and not guarded and sub in (
            "AT_AlterColumnType", "AT_ColumnDefault", "AT_SetNotNull", "AT_DropNotNull",
            "AT_SetStatistics", "AT_SetStorage", "AT_AddIdentity", "AT_DropIdentity",
            "AT_SetIdentity", "AT_SetCompression",
        ):
            self.ref_columns(table, [name], rv)
        if sub == "AT_AlterColumnType":
            if name:  # PostgreSQL refuses it while a view uses the column
                self.add(ALTER, "column", tuple(f"{t}.{name}" for t in table), rv, "column")
            cd = (cmd.get("def") or {}).get("ColumnDef") or {}
            self.ref_type(cd.get("typeName"))
            if cd.get("raw_default"):
                self.walk(cd["raw_default"], scope_of(scope, scope))
        elif sub == "AT_ColumnDefault":
            if name:  # DROP or SET DEFAULT: what the old default used is free to go
                self.add(DROP, "default", tuple(f"{t}.{name}" for t in table), rv,
                         "default", guarded=True)
            if cmd.get("def"):
                self.walk(cmd["def"], scope_of(scope, scope))
        elif sub in ("AT_AddInherit", "AT_DropInherit") and cmd.get("def"):
            self.walk(cmd["def"])

    def st_RenameStmt(self, st: Node) -> None:
        rtype = st.get("renameType", "")
        guarded = bool(st.get("missing_ok"))
        newname = st.get("newname", "")
        rv = st.get("relation")
        if rtype in REL_DISPLAY and rv:
            names = self.ref_names(self.rel_parts(rv), "relation")
            schema = rv.get("schemaname") or (names[0].split(".")[0] if names else "")
            if not guarded:
                self.ref_relation(rv, REL_DISPLAY[rtype])
            self.add(RENAME, "relation", names, rv, REL_DISPLAY[rtype], guarded=guarded,
                     new=f"{schema}.{newname}")
        elif rtype == "OBJECT_COLUMN" and rv:
            table = self.ref_names(self.rel_parts(rv), "relation")
            if not table:
                return
            if not guarded:
                self.ref_relation(rv)
            old = st.get("subname", "")
            self.ref_columns(table, [old], rv) if not guarded else None
            self.add(RENAME, "column", tuple(f"{t}.{old}" for t in table), rv, "column",
                     guarded=guarded, new=f"{table[0]}.{newname}")
        elif rtype == "OBJECT_TABCONSTRAINT" and rv:
            self.rename_constraint(st, rv, guarded)
        elif rtype in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
            parts = strs((st.get("object") or {}).get("List", {}).get("items"))
            names = self.ref_names(parts, "type")
            if names:
                schema = names[0].rsplit(".", 1)[0]
                self.add(REF, "type", names, st, "type")
                self.add(RENAME, "type", names, st, "type", new=f"{schema}.{newname}")
        elif rtype in FUNC_DISPLAY:
            self.move_function(st, None, newname)
        elif rtype == "OBJECT_SCHEMA":
            old = st.get("subname", "")
            self.add(REF, "schema", (old,), st, "schema")
            self.add(RENAME, "schema", (old,), st, "schema", new=newname)
        elif rv:
            self.ref_relation(rv, guarded=guarded)

    def st_AlterObjectSchemaStmt(self, st: Node) -> None:
        rv = st.get("relation")
        if rv and st.get("objectType") in REL_DISPLAY:
            names = self.ref_names(self.rel_parts(rv), "relation")
            guarded = bool(st.get("missing_ok"))
            if not guarded:
                self.ref_relation(rv)
            self.add(RENAME, "relation", names, rv, REL_DISPLAY[st["objectType"]],
                     guarded=guarded, new=f"{st.get('newschema', '')}.{rv.get('relname', '')}")
        elif st.get("objectType") in FUNC_DISPLAY:  # like RENAME TO: the name is gone
            self.move_function(st, st.get("newschema", ""), None)
        elif st.get("objectType") in ("OBJECT_TYPE", "OBJECT_DOMAIN"):
            parts = strs((st.get("object") or {}).get("List", {}).get("items"))
            names = self.ref_names(parts, "type")
            if names:  # (like RENAME TO: the type goes on under the new schema)
                self.add(REF, "type", names, st, "type")
                self.add(RENAME, "type", names, st, "type",
                         new=f"{st.get('newschema', '')}.{names[0].rsplit('.', 1)[1]}")
        else:
            self.walk(st)

    def move_function(self, st: Node, schema: str | None, name: str | None) -> None:
        """``ALTER FUNCTION f(…) RENAME TO name`` or ``SET SCHEMA schema`` (None: the
        function's own): a use of the function, and a rename of it."""
        owa = (st.get("object") or {}).get("ObjectWithArgs") or {}
        names = self.ref_names(strs(owa.get("objname")), "function")
        if names:
            old_schema, _, old_name = names[0].rpartition(".")
            self.add(REF, "function", names, st, "function")
            self.add(RENAME, "function", names, st, "function",
                     new=f"{old_schema if schema is None else schema}."
                         f"{old_name if name is None else name}")

    def st_DropStmt(self, st: Node) -> None:
        rtype = st.get("removeType", "")
        guarded = bool(st.get("missing_ok"))
        if st.get("concurrent"):
            self.non_transactional(st, "DROP INDEX CONCURRENTLY")
        for obj in st.get("objects") or []:
            kind, names, display = self.object_names(rtype, obj)
            if not kind or not names:
                continue
            if rtype in ("OBJECT_FUNCTION", "OBJECT_ROUTINE") and self.drop_overload(
                    obj.get("ObjectWithArgs") or {}, names, st, display, guarded):
                # what it needs is that overload; the name may have others, made before
                # or after in any order
                self.add(DROP, kind, names, st, display, guarded=True)
                continue
            if not guarded:
                self.add(REF, kind, names, obj.get("TypeName") or st, display)
            self.add(DROP, kind, names, obj.get("TypeName") or st, display, guarded=guarded,
                     open_=st.get("behavior") == "DROP_CASCADE")
            if rtype in ("OBJECT_TABLE", "OBJECT_SCHEMA"):  # with IF EXISTS too
                self.destructive(st, f"DROP {display.upper()} {names[0]}")

    def drop_overload(self, owa: Node, names: tuple[str, ...], st: Node, display: str,
                      guarded: bool) -> bool:
        """``DROP FUNCTION f(int4, text)`` needs that overload: the file that created it,
        not any definition of ``f`` (a history that changes a function's arguments drops
        each version by its signature)."""
        if owa.get("args_unspecified"):
            return False
        overload = signature(owa.get("objfuncargs") or [])
        if overload is None:
            return False
        overloads = tuple(f"{name}({overload})" for name in names)
        if not guarded:
            self.add(REF, "overload", overloads, st, display)
        self.add(DROP, "overload", overloads, st, display, guarded=guarded)
        return True

    def object_names(self, objtype: str, obj: Node) -> tuple[str, tuple[str, ...], str]:
        """(kind, candidate identities, display) for a DROP/COMMENT/GRANT object node."""
        if objtype in REL_DISPLAY:
            parts = strs((obj.get("List") or {}).get("items"))
            if "RangeVar" in obj:
                parts = self.rel_parts(obj["RangeVar"])
            return "relation", self.ref_names(parts, "relation"), REL_DISPLAY[objtype]
        if objtype in TYPE_DISPLAY:
            tn = obj.get("TypeName") or {}
            parts = strs(tn.get("names")) or strs((obj.get("List") or {}).get("items"))
            return "type", self.ref_names(parts, "type"), TYPE_DISPLAY[objtype]
        if objtype in FUNC_DISPLAY:
            owa = obj.get("ObjectWithArgs") or {}
            return ("function", self.ref_names(strs(owa.get("objname")), "function"),
                    FUNC_DISPLAY[objtype])
        if objtype == "OBJECT_SCHEMA":
            name = sval(obj) or ""
            exists = name in BUILTIN_SCHEMAS or name == "public"
            return "schema", ((name,) if not exists else ()), "schema"
        if objtype == "OBJECT_EXTENSION":
            name = sval(obj) or ""
            # plpgsql is installed in every database (pg_dump comments on it)
            return "extension", ((name,) if name != "plpgsql" else ()), "extension"
        if objtype in ("OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE"):
            parts = strs((obj.get("List") or {}).get("items"))
            if len(parts) >= 2:
                table = self.ref_names(parts[:-1], "relation")
                kind = objtype.removeprefix("OBJECT_").lower()
                if kind == "rule":
                    return "relation", table, "table"
                return kind, tuple(f"{t}.{parts[-1]}" for t in table), kind
        if objtype == "OBJECT_COLUMN":
            parts = strs((obj.get("List") or {}).get("items"))
            if len(parts) >= 2:
                table = self.ref_names(parts[:-1], "relation")
                return "column", tuple(f"{t}.{parts[-1]}" for t in table), "column"
        if objtype == "OBJECT_TABCONSTRAINT":
            parts = strs((obj.get("List") or {}).get("items"))
            if len(parts) >= 2:
                return "relation", self.ref_names(parts[:-1], "relation"), "table"
        return "", (), ""

    def st_CreateSeqStmt(self, st: Node) -> None:
        rv = st.get("sequence") or {}
        self.add(CREATE, "relation", (self.create_name(self.rel_parts(rv)),), rv, "sequence",
                 guarded=bool(st.get("if_not_exists")))
        self.seq_options(st, rv)

    def st_AlterSeqStmt(self, st: Node) -> None:
        rv = st.get("sequence") or {}
        self.ref_relation(rv, "sequence", guarded=bool(st.get("missing_ok")))
        self.seq_options(st, rv)

    def seq_options(self, st: Node, rv: Node) -> None:
        for opt in st.get("options") or []:
            de = opt.get("DefElem") or {}
            if de.get("defname") == "owned_by":
                parts = strs((de.get("arg") or {}).get("List", {}).get("items"))
                if len(parts) >= 2:
                    table = self.ref_names(parts[:-1], "relation")
                    self.add(REF, "relation", table, rv, "table")
                    self.ref_columns(table, [parts[-1]], rv)
            elif de.get("defname") == "as":
                self.walk(de.get("arg"))

    def st_CreatePolicyStmt(self, st: Node) -> None:
        rv = st.get("table") or {}
        table = self.ref_relation(rv)
        if table:
            self.add(CREATE, "policy", (f"{table[0]}.{st.get('policy_name', '')}",), rv,
                     "policy")
        scope: Scope = {rv.get("relname", ""): table or None}
        for key in ("qual", "with_check"):
            if st.get(key):
                self.walk(st[key], scope_of(scope, scope))

    def st_AlterPolicyStmt(self, st: Node) -> None:
        rv = st.get("table") or {}
        table = self.ref_relation(rv)
        if table:
            self.add(REF, "policy", (f"{table[0]}.{st.get('policy_name', '')}",), rv, "policy")
        scope: Scope = {rv.get("relname", ""): table or None}
        for key in ("qual", "with_check"):
            if st.get(key):
                self.walk(st[key], scope_of(scope, scope))

    def st_CommentStmt(self, st: Node) -> None:
        obj = st.get("object") or {}
        kind, names, display = self.object_names(st.get("objtype", ""), obj)
        if kind:
            self.add(REF, kind, names, obj.get("TypeName") or st, display)

    def st_GrantStmt(self, st: Node) -> None:
        objtype = st.get("objtype", "")
        if st.get("targtype") == "ACL_TARGET_ALL_IN_SCHEMA":
            for obj in st.get("objects") or []:
                name = sval(obj)
                if name and name not in BUILTIN_SCHEMAS and name != "public":
                    self.add(REF, "schema", (name,), st, "schema")
            return
        if st.get("targtype") != "ACL_TARGET_OBJECT":
            return
        for obj in st.get("objects") or []:
            kind, names, display = self.object_names(objtype, obj)
            if kind and not (kind == "schema" and names == ("public",)):
                self.add(REF, kind, names, obj.get("RangeVar") or st, display)

    def st_AlterOwnerStmt(self, st: Node) -> None:
        obj = st.get("object") or {}
        kind, names, display = self.object_names(st.get("objectType", ""), obj)
        if kind:
            self.add(REF, kind, names, st, display)

    def st_TruncateStmt(self, st: Node) -> None:
        for rel in st.get("relations") or []:
            if "RangeVar" in rel:
                self.ref_relation(rel["RangeVar"])
        self.destructive(st, "TRUNCATE")

    def st_RuleStmt(self, st: Node) -> None:
        if st.get("relation"):
            names = self.ref_relation(st["relation"])
            if st.get("instead") and names:
                self.add(WEAK, WRITES, names, st["relation"], "view", open_=True)


def _unwritable(select: Node | None) -> bool:
    """Whether a view over this query is one PostgreSQL surely cannot write: not one
    relation in its FROM list, a set operation, DISTINCT, GROUP BY, HAVING, LIMIT,
    OFFSET or WITH (aggregates and window functions in the select list also make it so;
    not looked for: a view missed is only a view assumed writable)."""
    if not select:
        return False
    if select.get("op", "SETOP_NONE") != "SETOP_NONE":
        return True
    items = select.get("fromClause") or []
    return len(items) != 1 or "RangeVar" not in items[0] or any(
        select.get(key) for key in ("distinctClause", "groupClause", "havingClause",
                                    "limitCount", "limitOffset", "withClause"))


def _star_tables(select: Node) -> list[Node]:
    """The tables (RangeVars of the FROM list, through joins) whose every column a view
    over this query holds: ``SELECT *`` reads them all, ``SELECT t.*`` the one named
    ``t``. None under WITH (a name there may be the query's own)."""
    if select.get("withClause") or select.get("op", "SETOP_NONE") != "SETOP_NONE":
        return []
    stars: list[str | None] = []  # None: every table
    for target in select.get("targetList") or []:
        fields = ((target.get("ResTarget") or {}).get("val") or {}).get(
            "ColumnRef", {}).get("fields") or []
        if fields and "A_Star" in fields[-1]:
            stars.append(None if len(fields) == 1 else (fields[-2].get("String") or {}).get(
                "sval"))
    if not stars:
        return []
    tables: list[Node] = []
    todo = list(select.get("fromClause") or [])
    while todo:
        item = todo.pop()
        if "JoinExpr" in item:
            todo.extend(item["JoinExpr"].get(side) or {} for side in ("larg", "rarg"))
        elif "RangeVar" in item:
            rv = item["RangeVar"]
            alias = (rv.get("alias") or {}).get("aliasname") or rv.get("relname")
            if None in stars or alias in stars:
                tables.append(rv)
    return tables


def _drop_column(name: str) -> bytes:
    """A regular expression for ``DROP [COLUMN] [IF EXISTS] name`` (bare or quoted)."""
    quoted = re.escape(('"' + name.replace('"', '""') + '"').encode())
    return (rb"(?i:\bDROP\s+(?:COLUMN\s+)?(?:IF\s+EXISTS\s+)?)(?:" + quoted + rb"|(?i:"
            + re.escape(name.encode()) + rb")(?![\w$]))")
