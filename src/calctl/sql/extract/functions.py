"""Functions, procedures, DO blocks, triggers: what they create and the bodies they hold."""

from __future__ import annotations

from calctl.sql.extract.core import DOLLAR, NO_OUTPUTS, Node, strs, sval
from calctl.sql.extract.plpgsql import Bodies
from calctl.sql.facts import CREATE, REF, REPLACE, WEAK, WRITES
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
        runnable = bool(identity)  # (its body may be run by a call of this file)
        for opt in st.get("options") or []:
            de = opt.get("DefElem") or {}
            if de.get("defname") == "language":
                language = (sval(de.get("arg")) or "").lower()
            elif de.get("defname") == "as":
                body = de
            elif de.get("defname") == "set":
                runnable = False  # its own search_path (or other setting) when it runs
        if self._bodies is not None and identity in self._bodies:
            kept = self._bodies.pop(identity)
            if kept is None or kept[4] != overload or overload is None:
                # another overload of the name (or one whose types are not plainly
                # named): which one a call runs is not told here
                self._bodies[identity] = None
        saved_params = self.params
        self.params = frozenset(params)
        try:
            self.function_body(st, language, body,
                               identity if runnable else "", overload)
        finally:
            self.params = saved_params

    def function_body(self, st: Node, language: str, body: Node | None,
                      identity: str = "", overload: str | None = None) -> None:
        """Walk a function's body where it is made (what it needs is needed when it runs:
        weak, but for a SQL body PostgreSQL checks now); kept under ``identity`` for a
        statement of this file that calls it (:meth:`run_now`)."""
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
        self._defining += 1  # (a call in the body runs when the body does, not now)
        try:
            if language == "sql":
                self.sub_sql(source, offset, weak=not self.check_bodies or _polymorphic(st))
            elif language == "plpgsql" and self.stmt_text():
                self.plpgsql(self.stmt_text(), offset, source, weak=True)
            else:
                return
        finally:
            self._defining -= 1
        if identity:
            if self._bodies is None:
                self._bodies, self._ran = {}, set()
            if identity not in self._bodies:  # (None: overloads, see the caller)
                self._bodies[identity] = (language, self.stmt_text() if language == "plpgsql"
                                          else "", source, self.params, overload)
                self._ran.discard(identity)  # a new body: a later call runs this one

    def run_now(self, parts: tuple[str, ...], call: Node) -> None:
        """A statement that calls, when it runs, a function this file made before it
        (``SELECT f();``, ``CALL p();``, ``PERFORM f();`` in a DO block): the body runs at
        that moment, so what its statements that surely run use is needed there (more
        surely than in a DO block: see ``plpgsql(called=True)``). Those uses are added as
        the call's own (its line); what the body makes, drops or shows was said where it
        was made. Not from a body being made, a loop or a cursor's query, nor with a
        NULL argument; each definition runs once per file (a second call needs nothing
        the first did not), through at most :data:`CALLS_FOLLOWED` nested calls."""
        bodies = self._bodies
        if not bodies or self.weak or self._defining or self._looped \
                or len(self._running) >= CALLS_FOLLOWED:
            return
        # the name as PostgreSQL finds it first (an unqualified one: in the first schema
        # of the path; a function of this file in a later schema may not be the one)
        candidates = self.ref_names(parts, "function")
        identity = candidates[0] if candidates else ""
        found = bodies.get(identity)
        if found is None or identity in self._ran or any(
                (arg.get("A_Const") or {}).get("isnull") for arg in call.get("args") or ()
                if isinstance(arg, dict)):  # (a STRICT function does not run on a NULL)
            return
        language, statement, source, params, _ = found
        line, column = self.where(call)
        facts, observations = self.facts, self.observations
        first, seen = len(facts), len(observations)
        non_tx, enum_values = len(self.non_tx), len(self.enum_values)
        saved = self.params, self._running
        self._ran.add(identity)
        self._running = self._running | {identity}
        self.params = params
        try:
            if language == "sql":
                self.sub_sql(source, -1, weak=False)
            else:
                self.plpgsql(statement, -1, source, weak=False, called=True)
        finally:
            self.params, self._running = saved
        kept = [(action, kind, names, line, column, display, guarded, new, open_)
                for action, kind, names, _, _, display, guarded, new, open_ in facts[first:]
                if action == REF]
        del facts[first:]
        facts.extend(kept)
        del observations[seen:]
        del self.non_tx[non_tx:]
        del self.enum_values[enum_values:]

    def st_SelectStmt(self, st: Node) -> None:
        super().st_SelectStmt(st)
        # a plain ``SELECT f(…), g(…)``: each call runs once, now
        if self._bodies and not any(st.get(clause) for clause in _NOT_PLAIN) \
                and st.get("op") in (None, "SETOP_NONE"):
            for target in st.get("targetList") or []:
                call = ((target.get("ResTarget") or {}).get("val") or {}).get("FuncCall")
                if call:
                    self.run_now(strs(call.get("funcname")), call)

    def st_CallStmt(self, st: Node) -> None:
        """``CALL p(…)`` needs ``p`` (the parser gives the call as a bare FuncCall's
        fields, which the generic walk did not see), and runs it now."""
        call = st.get("funccall")
        if not call:
            return
        self.func_call(call, None, NO_OUTPUTS)
        if self._bodies:
            self.run_now(strs(call.get("funcname")), call)

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


# how deep run_now follows a called function's own calls of this file's functions
CALLS_FOLLOWED = 4
# a SELECT with any of these may run its target list's calls no time (or many)
_NOT_PLAIN = ("fromClause", "whereClause", "havingClause", "groupClause", "limitCount",
              "limitOffset", "windowClause", "distinctClause", "sortClause", "withClause",
              "valuesLists", "lockingClause")

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
