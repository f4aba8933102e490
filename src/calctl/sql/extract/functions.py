"""Functions, procedures, DO blocks, triggers: what they create and the bodies they hold."""

from __future__ import annotations

from calctl.sql.extract.core import DOLLAR, Node, strs, sval
from calctl.sql.extract.plpgsql import Bodies
from calctl.sql.facts import CREATE, REPLACE, WEAK, WRITES
from calctl.sql.observations import FOREIGN_LANGUAGE, Observation

# parameter modes that are not part of a function's signature
OUTPUTS = frozenset({"FUNC_PARAM_OUT", "FUNC_PARAM_TABLE"})


def signature(parameters: list[Node]) -> str | None:
    """The input argument types of ``FunctionParameter`` nodes as PostgreSQL identifies
    an overload, ``int4,text[]`` (the parser writes keyword types as their catalog names:
    ``integer`` → ``int4``); None when a type is not plainly named (``%TYPE``, ``_int4``
    for ``int4[]``)."""
    written = []
    for param in parameters:
        fp = param.get("FunctionParameter") or {}
        if fp.get("mode") in OUTPUTS:
            continue
        tn = fp.get("argType")
        if not tn or tn.get("pct_type"):
            return None
        names = strs(tn.get("names"))
        if not names or names[-1].startswith("_"):
            return None
        # (an array type has no dimensions in a signature: int[][] is int[])
        written.append(names[-1] + "[]" if tn.get("arrayBounds") else names[-1])
    return ",".join(written)


class Functions(Bodies):
    """CREATE FUNCTION, DO, triggers."""

    def st_CreateFunctionStmt(self, st: Node) -> None:
        parts = strs(st.get("funcname"))
        display = "procedure" if st.get("is_procedure") else "function"
        action = REPLACE if st.get("replace") else CREATE
        identity = self.create_name(parts)
        self.add(action, "function", (identity,), st, display)
        overload = signature(st.get("parameters") or [])
        if identity and overload is not None and display == "function":
            # (a procedure's OUT arguments are part of its signature: not followed)
            self.add(action, "overload", (f"{identity}({overload})",), st, display)
        params = {parts[-1]} if parts else set()
        for param in st.get("parameters") or []:
            fp = param.get("FunctionParameter") or {}
            if fp.get("name"):
                params.add(fp["name"])
            self.ref_type(fp.get("argType"))
            if fp.get("defexpr"):
                self.walk(fp["defexpr"])
        self.ref_type(st.get("returnType"), returned=True)
        language = ""
        body: Node | None = None
        for opt in st.get("options") or []:
            de = opt.get("DefElem") or {}
            if de.get("defname") == "language":
                language = (sval(de.get("arg")) or "").lower()
            elif de.get("defname") == "as":
                body = de
        saved_params = self.params
        self.params = frozenset(params)
        try:
            self.function_body(st, language, body)
        finally:
            self.params = saved_params

    def function_body(self, st: Node, language: str, body: Node | None) -> None:
        if st.get("sql_body"):
            self.walk(st["sql_body"])
            return
        if body is None:
            return
        items = ((body.get("arg") or {}).get("List") or {}).get("items") or []
        if len(items) != 1:
            return  # C functions: AS 'obj_file', 'link_symbol'
        source = sval(items[0]) or ""
        offset = self.body_offset(body)
        if language == "sql":
            self.sub_sql(source, offset, weak=not self.check_bodies or _polymorphic(st))
        elif language == "plpgsql" and self.stmt_text():
            self.plpgsql(self.stmt_text(), offset, source, weak=True)

    def body_offset(self, de: Node) -> int:
        """Byte offset (in the file) where a dollar- or single-quoted body starts."""
        loc = de.get("arg_location", -1)
        if not isinstance(loc, int) or loc < 0:
            return -1
        start = self.base + loc
        m = DOLLAR.match(self.data, start)
        return start + (len(m.group(0)) if m else 0)

    def st_DoStmt(self, st: Node) -> None:
        language = "plpgsql"
        body: Node | None = None
        for arg in st.get("args") or []:
            de = arg.get("DefElem") or {}
            if de.get("defname") == "language":
                language = (sval(de.get("arg")) or "").lower()
            elif de.get("defname") == "as":
                body = de
        if language != "plpgsql" or body is None:
            self.observations.append(Observation(FOREIGN_LANGUAGE, self.fallback_line, 1,
                                                 language))
            return
        if self.stmt_text():
            source = sval(body.get("arg")) or ""
            # a DO block runs now: its unguarded statements' uses are hard
            self.plpgsql(self.stmt_text(), self.body_offset(body), source, weak=False,
                         is_do=True)

    def st_AlterFunctionStmt(self, st: Node) -> None:
        owa = st.get("func") or {}
        self.ref_function(strs(owa.get("objname")), st)

    def st_CreateTrigStmt(self, st: Node) -> None:
        rv = st.get("relation") or {}
        table = self.ref_relation(rv)
        action = REPLACE if st.get("replace") else CREATE
        if table:
            self.add(action, "trigger", (f"{table[0]}.{st.get('trigname', '')}",), rv,
                     "trigger")
            if st.get("timing", 0) & 64:  # (TRIGGER_TYPE_INSTEAD: INSTEAD OF, on a view)
                self.add(WEAK, WRITES, table, rv, "view", open_=True)
        self.ref_function(strs(st.get("funcname")), rv)
        if st.get("whenClause"):
            self.walk(st["whenClause"], None)
        self.ref_columns(table, strs(st.get("columns")), rv)

    def st_CreateEventTrigStmt(self, st: Node) -> None:
        self.ref_function(strs(st.get("funcname")), st)


# pseudo-types of polymorphic arguments: a SQL function taking one is parsed, not checked,
# when it is made (its body's objects are needed only when it runs)
_POLYMORPHIC = frozenset({"anyelement", "anyarray", "anynonarray", "anyenum", "anyrange",
                          "anymultirange", "anycompatible", "anycompatiblearray",
                          "anycompatiblenonarray", "anycompatiblerange",
                          "anycompatiblemultirange"})


def _polymorphic(st: Node) -> bool:
    """Whether a ``CREATE FUNCTION`` takes an argument of a polymorphic type."""
    for param in st.get("parameters") or []:
        names = strs(((param.get("FunctionParameter") or {}).get("argType") or {})
                     .get("names"))
        if names and names[-1] in _POLYMORPHIC:
            return True
    return False
