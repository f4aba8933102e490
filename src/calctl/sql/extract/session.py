"""Session and database-level statements: SET search_path, schemas, extensions,
transaction control and the statements that cannot run in a transaction."""

from __future__ import annotations

from calctl.sql.extract.core import Node, setting_off, sval
from calctl.sql.extract.tables import Tables
from calctl.sql.facts import CREATE


class Session(Tables):
    """The last family: every ``st_`` method is visible from here."""

    def st_VariableSetStmt(self, st: Node) -> None:
        if st.get("name") == "check_function_bodies":
            # pg_dump style: SQL function bodies are then not checked at creation
            self.check_bodies = not any(setting_off(a) for a in st.get("args") or [])
            return
        if st.get("name") != "search_path" or st.get("is_local"):
            return
        kind = st.get("kind")
        if kind == "VAR_SET_VALUE":
            values = [sval(a) for a in st.get("args") or []]
            schemas = tuple(v for v in values if v and v != "$user")
            self.path = schemas or self.default_path
        elif kind in ("VAR_SET_DEFAULT", "VAR_RESET", "VAR_RESET_ALL"):
            self.path = self.default_path

    def st_CreateSchemaStmt(self, st: Node) -> None:
        name = st.get("schemaname") or ""
        self.add(CREATE, "schema", (name,), st, "schema", guarded=bool(st.get("if_not_exists")))
        saved = self.path
        self.path = (name, *saved)
        try:
            for elt in st.get("schemaElts") or []:
                for key, value in elt.items():
                    self.statement(key, value)
        finally:
            self.path = saved

    def st_CreateExtensionStmt(self, st: Node) -> None:
        self.add(CREATE, "extension", (st.get("extname", ""),), st, "extension",
                 guarded=bool(st.get("if_not_exists")))

    def st_VacuumStmt(self, st: Node) -> None:
        # VACUUM/ANALYZE t (a, b): the table and its columns must exist
        for item in st.get("rels") or []:
            rel = item.get("VacuumRelation") or {}
            if rel.get("relation"):
                table = self.ref_relation(rel["relation"])
                columns = (sval(c) for c in rel.get("va_cols") or [])
                self.ref_columns(table, [c for c in columns if c], rel)
        self.non_transactional(st, "VACUUM" if st.get("is_vacuumcmd") else "ANALYZE",
                               real=bool(st.get("is_vacuumcmd")))

    def st_ReindexStmt(self, st: Node) -> None:
        if st.get("relation"):
            self.ref_relation(st["relation"], "index")
        for p in st.get("params") or []:
            if (p.get("DefElem") or {}).get("defname") == "concurrently":
                self.non_transactional(st, "REINDEX CONCURRENTLY")

    def st_TransactionStmt(self, st: Node) -> None:
        self.explicit_tx = True

    def st_CreatedbStmt(self, st: Node) -> None:
        self.non_transactional(st, "CREATE DATABASE")

    def st_DropdbStmt(self, st: Node) -> None:
        self.non_transactional(st, "DROP DATABASE")

    def st_AlterSystemStmt(self, st: Node) -> None:
        self.non_transactional(st, "ALTER SYSTEM")

    def st_CreateTableSpaceStmt(self, st: Node) -> None:
        self.non_transactional(st, "CREATE TABLESPACE")
