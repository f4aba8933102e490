"""Types: composite, enum, range, domain, base types and aggregates (DefineStmt)."""

from __future__ import annotations

from calctl.sql.extract.core import TYPE_OPTIONS, Node, strs
from calctl.sql.extract.functions import Functions
from calctl.sql.facts import ALTER, CREATE, REF, REPLACE


class Types(Functions):
    """CREATE/ALTER TYPE and DOMAIN."""

    def st_CompositeTypeStmt(self, st: Node) -> None:
        rv = st.get("typevar") or {}
        self.add(CREATE, "type", (self.create_name(self.rel_parts(rv)),), rv, "type")
        for elt in st.get("coldeflist") or []:
            self.ref_type((elt.get("ColumnDef") or {}).get("typeName"))

    def st_CreateEnumStmt(self, st: Node) -> None:
        name = self.create_name(strs(st.get("typeName")))
        self.add(CREATE, "type", (name,), st, "enum")
        # its labels: which definition of a type dropped and made again a later
        # ``ADD VALUE`` belongs to (calctl.sql.names.labels)
        for item in st.get("vals") or []:
            label = (item.get("String") or {}).get("sval")
            if label is not None:
                self.add(CREATE, "label", (f"{name}.{label}",), st, "enum label")

    def st_CreateRangeStmt(self, st: Node) -> None:
        self.add(CREATE, "type", (self.create_name(strs(st.get("typeName"))),), st, "type")
        self.walk(st.get("params"))

    def st_CreateDomainStmt(self, st: Node) -> None:
        self.add(CREATE, "type", (self.create_name(strs(st.get("domainname"))),), st, "domain")
        self.ref_type(st.get("typeName"))
        for con in st.get("constraints") or []:
            self.walk((con.get("Constraint") or {}).get("raw_expr"))

    def st_AlterEnumStmt(self, st: Node) -> None:
        names = self.ref_names(strs(st.get("typeName")), "type")
        self.add(REF, "type", names, st, "enum")
        self.add(ALTER, "type", names, st, "enum")
        if st.get("newVal"):
            # ADD VALUE, or RENAME VALUE (oldVal): the new label exists from here on, and
            # either fails where the type has it already (calctl.sql.names.labels)
            renamed = bool(st.get("oldVal"))
            self.add(CREATE, "label", tuple(f"{n}.{st['newVal']}" for n in names), st,
                     "enum label", guarded=not renamed and bool(st.get("skipIfNewValExists")))
            if not renamed:
                self.enum_values.append((self._stmt_end, st["newVal"], self.fallback_line))

    def st_AlterDomainStmt(self, st: Node) -> None:
        names = self.ref_names(strs(st.get("typeName")), "type")
        self.add(REF, "type", names, st, "domain")
        self.walk(st.get("def"))

    def st_DefineStmt(self, st: Node) -> None:
        kind = st.get("kind", "")
        parts = strs(st.get("defnames"))
        if kind == "OBJECT_AGGREGATE":
            self.add(CREATE if not st.get("replace") else REPLACE, "function",
                     (self.create_name(parts),), st, "aggregate")
        elif kind == "OBJECT_TYPE":
            self.add(CREATE, "type", (self.create_name(parts),), st, "type")
        self.walk(st.get("args"))
        for d in st.get("definition") or []:
            de = d.get("DefElem") or {}
            arg = de.get("arg")
            # only these options name types; elsewhere a bare word is just a word
            if de.get("defname") in TYPE_OPTIONS and isinstance(arg, dict) \
                    and "TypeName" in arg:
                self.ref_type(arg["TypeName"])
