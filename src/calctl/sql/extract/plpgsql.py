"""Bodies: SQL function bodies and PL/pgSQL (functions, DO blocks), parsed again and
walked with references made weak (they are needed when the body runs, not when it is
created)."""

from __future__ import annotations

import re
from typing import Any

from calctl.sql.extract.core import CHANGING, load_parser, loads
from calctl.sql.extract.dml import Queries
from calctl.sql.extract.dynamic import Bound, loop_names, written_out
from calctl.sql.facts import REF, WEAK
from calctl.sql.facts import PlainFact as Fact
from calctl.sql.observations import DYNAMIC_SQL, Observation


class Bodies(Queries):
    """Walks SQL held in strings."""

    def stmt_text(self) -> str:
        """The statement being walked, decoded on first use (only PL/pgSQL bodies need it)."""
        if self._stmt_text is None:
            self._stmt_text = self.data[self._stmt_start:self._stmt_end].decode("utf-8",
                                                                              "replace")
        return self._stmt_text

    def sub_sql(self, source: str, offset: int, *, weak: bool) -> None:
        """Parse SQL held in a string (a function body) and walk it."""
        parser = load_parser()
        try:
            tree = loads(parser.parse_sql_json(source))
        except Exception:
            return  # a body pglast cannot parse: PostgreSQL itself would refuse it
        saved = self.body_state()
        self.weak = self.weak or weak
        if offset >= 0:
            self.base = offset
            self.line_base = 0
        else:
            self.line_base = self.fallback_line
            self._body_text = source
        try:
            for raw in tree.get("stmts") or []:
                for key, value in (raw.get("stmt") or {}).items():
                    if key == "SelectStmt":  # the usual body: statement(), two calls fewer
                        self.select(value, None)
                    else:
                        self.statement(key, value)
        finally:
            self.restore(saved)

    def plpgsql(self, stmt_text: str, offset: int, source: str, *, weak: bool,
                is_do: bool = False, called: bool = False) -> None:
        """Walk a PL/pgSQL body: a DO block's (``is_do``: its dynamic SQL written out
        where it can be, :mod:`calctl.sql.extract.dynamic`), or a function's; ``called``:
        a function's that a statement runs now (``Functions.run_now``), read more surely
        than a DO block's: a loop's body may run no time, and a body with EXECUTE (what
        it makes is not known), a nested block (its variables are not told from columns)
        or a RETURN/EXIT before its end (what follows may not run) is not read at all."""
        parser = load_parser()
        try:
            tree = loads(parser.parse_plpgsql_json(stmt_text))
        except Exception:
            return
        first_line = self.lines.line(offset) if offset >= 0 else self.fallback_line
        queries: list[Query] = []
        # lines whose calls may run no time (a loop's body, a cursor's query): a call of
        # one of this file's functions there does not run its body now (run_now)
        looped: set[int] | None = set() if self._bodies else None
        dynamic, blocks = _collect_plpgsql(tree, queries, expand=is_do, called=called,
                                           looped=looped)
        if called and (dynamic or blocks > 1 or _leaves_early(tree)):
            return
        saved = self.body_state()
        saved_params, saved_variables = self.params, self.variables
        outer = self.weak or weak
        if not outer and blocks == 1:  # (weak queries read no columns: see column_ref)
            # a bare name the body declares is its variable, not a column: with
            # PostgreSQL's default plpgsql.variable_conflict = error, a query where it
            # could be both fails. The parser does not say which block declares what,
            # so a body with a nested block declares nothing here: a name an inner
            # block declares may be a column in the outer one.
            records, variables = _declared(tree)
            self.params = saved_params | records
            self.variables = saved_variables | variables
        self._stmt_text = ""  # nested bodies are not re-parsed as PL/pgSQL
        saved_looped = self._looped
        try:
            for lineno, query, guarded, checked in queries:
                self._looped = saved_looped or (looped is not None and lineno in looped)
                self.weak = outer or guarded == GUARDED
                self.idempotent = guarded == IDEMPOTENT or (is_do and guarded == GUARDED)
                first = len(self.facts)
                line = first_line + max(lineno - 1, 0)
                self.fallback_line = line
                self.line_base = line
                self._body_text = query
                try:
                    sub = loads(parser.parse_sql_json(query))
                except Exception:
                    continue
                for raw in sub.get("stmts") or []:
                    for key, value in (raw.get("stmt") or {}).items():
                        if key == "VariableSetStmt":
                            continue
                        self.statement(key, value)
                if checked and not self.weak:
                    _weaken(self.facts, first, checked)
        finally:
            self.restore(saved)
            self.params, self.variables = saved_params, saved_variables
            self._looped = saved_looped
        if is_do and dynamic:
            self.observations.append(Observation(DYNAMIC_SQL, self.fallback_line))


def _weaken(facts: list[Fact], first: int, checked: frozenset[str]) -> None:
    """Make the facts from ``first`` on about a name in ``checked`` (an object, or a
    column of a table) as in a guarded branch: its uses weak, its changes guarded."""
    for at in range(first, len(facts)):
        action, kind, names, line, column, display, guarded, new, open_ = facts[at]
        name = names[0].split(".")
        if (name[-2] if kind == "column" and len(name) > 2 else name[-1]).lower() \
                not in checked:
            continue
        if action == REF:
            facts[at] = (WEAK, kind, names, line, column, display, guarded, new, open_)
        elif action in CHANGING and not guarded:
            facts[at] = (action, kind, names, line, column, display, True, new, open_)


def _declared(tree: Any) -> tuple[frozenset[str], frozenset[str]]:
    """The records (and rows) and the scalar variables a PL/pgSQL body declares, with
    its parameters."""
    records: set[str] = set()
    variables: set[str] = set()
    for function in tree if isinstance(tree, list) else ():
        for datum in (function.get("PLpgSQL_function") or {}).get("datums") or ():
            for kind, into in (("PLpgSQL_var", variables), ("PLpgSQL_rec", records),
                               ("PLpgSQL_row", records)):
                name = (datum.get(kind) or {}).get("refname")
                if isinstance(name, str) and name:
                    into.add(name)
    return frozenset(records), frozenset(variables)


# Statements whose parts other than these keys may not run: the branches of IF and
# CASE (their conditions always run)
_BRANCHING = {"PLpgSQL_stmt_if": "cond", "PLpgSQL_stmt_case": "t_expr"}
# Loops: their ``body`` may run no time (a DO block's is read as running: issue 12's
# "FOR r IN SELECT … LOOP UPDATE …"; a called function's is not, see plpgsql())
_LOOPS = frozenset({"PLpgSQL_stmt_loop", "PLpgSQL_stmt_while", "PLpgSQL_stmt_fori",
                    "PLpgSQL_stmt_fors", "PLpgSQL_stmt_forc", "PLpgSQL_stmt_foreach_a"})

# How surely a query in a PL/pgSQL body runs (see _collect_plpgsql)
RUNS = 0
IDEMPOTENT = 1  # runs whenever what it makes is missing: what it uses is needed
GUARDED = 2     # may not run, or may fail without failing the block

# Conditions raised only by making what exists already: a block catching nothing else
# (drizzle's ``EXCEPTION WHEN duplicate_object THEN null`` around each foreign key)
# still fails on a missing table, so its uses are needed as at the top level.
_DUPLICATE_CONDITIONS = frozenset({
    "duplicate_object", "duplicate_table", "duplicate_column", "duplicate_function",
    "duplicate_schema", "duplicate_alias", "unique_violation",
    "42710", "42P07", "42701", "42723", "42P06", "42712", "23505"})


def _duplicates_only(exceptions: Any) -> bool:
    """Whether an EXCEPTION clause catches only :data:`_DUPLICATE_CONDITIONS`."""
    handlers = (exceptions.get("PLpgSQL_exception_block") or {}).get("exc_list") \
        if isinstance(exceptions, dict) else None
    names = [(condition.get("PLpgSQL_condition") or {}).get("condname")
             for handler in handlers or ()
             for condition in (handler.get("PLpgSQL_exception") or {}).get("conditions") or ()]
    return bool(names) and all(name in _DUPLICATE_CONDITIONS for name in names)


# A condition that only asks whether something is missing yet (``IF NOT EXISTS (SELECT
# 1 FROM pg_constraint WHERE conname = 'x') THEN``): on a database the earlier files made,
# its branch runs.
_ABSENT = re.compile(r"\s*\(*\s*NOT\s+EXISTS\s*\(", re.I)
_LITERAL = re.compile(r"'((?:[^']|'')*)'")

Query = tuple[int, str, int, frozenset[str]]  # (line, query, level, names checked)
Loop = tuple[Bound, int]  # a loop over a list of names, and how surely its body runs
# statements a DO block's dynamic SQL is written out into, at most (each is parsed: a
# file is not to make the analysis parse without end)
WRITTEN_AT_MOST = 2000


def _checked(condition: str) -> frozenset[str]:
    """The names a condition's string literals hold (``'"T"'``, ``'public.t'`` → ``t``,
    lower case): a use of one of them in its branch is what it checks."""
    return frozenset(literal.replace("''", "'").replace('"', "").rpartition(".")[2].lower()
                     for literal in _LITERAL.findall(condition))


def _if_branches(value: dict[str, Any], level: int, checked: frozenset[str],
                 ) -> tuple[int, frozenset[str]]:
    """The level (and names checked) of the THEN branch of an IF: :data:`IDEMPOTENT` for
    a plain ``IF NOT EXISTS (…) THEN`` (the condition alone; no ELSIF, no ELSE), else
    :data:`GUARDED`."""
    cond = (value.get("cond") or {}).get("PLpgSQL_expr") or {}
    query = cond.get("query", "") if isinstance(cond, dict) else ""
    if (level < GUARDED and not value.get("elsif_list") and not value.get("else_body")
            and isinstance(query, str) and _only_absent(query)):
        return IDEMPOTENT, checked | _checked(query)
    return GUARDED, checked


def _only_absent(condition: str) -> bool:
    """Whether a condition is ``NOT EXISTS (…)`` alone (nothing ANDed or ORed to it)."""
    match = _ABSENT.match(condition)
    if match is None:
        return False
    depth = 1
    for at in range(match.end(), len(condition)):
        depth += {"(": 1, ")": -1}.get(condition[at], 0)
        if depth == 0:
            return not condition[at + 1:].strip(" \t\r\n)")
    return False


def _collect_plpgsql(tree: Any, out: list[Query], *, expand: bool = False,
                     called: bool = False, looped: set[int] | None = None
                     ) -> tuple[bool, int]:
    """SQL texts inside a PL/pgSQL tree as (line, query, how surely it runs, the names
    its guard checks); whether it has EXECUTE, and how many blocks (``BEGIN … END``) it
    holds. A query is :data:`GUARDED` when it may not run, or may fail without failing
    the block: in a branch of IF or CASE, in a block with an EXCEPTION handler (or the
    handler itself), or part of an EXECUTE; :data:`IDEMPOTENT` in a block whose handler
    catches only "already exists" errors, or in the branch of ``IF NOT EXISTS (…)
    THEN``, which runs on a database where the object it asks about is missing (then
    with the names the condition mentions: a use of one of those is what it checks).
    The others run whenever the body does (:data:`RUNS`); with ``called``, a loop's body
    is :data:`GUARDED` too (it may run no time). ``looped`` gets the lines of the queries
    in a loop's body or a cursor's query (a call there may run no time)."""
    dynamic = False
    blocks = 0
    function = (tree[0] if isinstance(tree, list) and tree and isinstance(tree[0], dict)
                else {}).get("PLpgSQL_function") or {}
    # a RETURN or EXIT anywhere may end the block before a statement written out runs
    # (asked once, at the first statement written out)
    leaves: bool | None = None
    written = 0  # statements written out: a block past WRITTEN_AT_MOST stays unread
    # (node, line, how surely it runs, names checked, the loop a name list drives, in a
    # loop's body or a cursor's query)
    stack: list[tuple[Any, int, int, frozenset[str], Loop | None, bool]] = [
        (tree, 1, RUNS, frozenset(), None, False)]
    while stack:
        node, lineno, guarded, checked, loop, inside = stack.pop()
        if isinstance(node, list):
            stack.extend((item, lineno, guarded, checked, loop, inside) for item in reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        lineno = node.get("lineno", lineno) if isinstance(node.get("lineno"), int) else lineno
        for key, value in node.items():
            if key == "PLpgSQL_stmt_dynexecute" or key == "PLpgSQL_stmt_dynfors":
                texts = written_out(value, loop[0] if loop else None) if expand \
                    and key == "PLpgSQL_stmt_dynexecute" and isinstance(value, dict) \
                    and written < WRITTEN_AT_MOST else None
                if texts is None:
                    dynamic = True
                else:  # (see calctl.sql.extract.dynamic)
                    written += len(texts)
                    if leaves is None:
                        leaves = _leaves(function.get("action"))
                    at = value.get("lineno", lineno)
                    level = max(guarded, loop[1] if loop else RUNS,
                                GUARDED if leaves else RUNS)
                    out.extend((at if isinstance(at, int) else lineno, text, level, checked)
                               for text in texts)
                stack.append((value, lineno, GUARDED, checked, loop, inside))
                continue
            if expand and key == "PLpgSQL_stmt_foreach_a" and isinstance(value, dict):
                names = loop_names(value, function)
                if names is not None:  # a statement after a CONTINUE or EXIT may not run
                    loop = (names, GUARDED if _leaves(value.get("body")) else RUNS)
            if (key in _LOOPS or key == "PLpgSQL_stmt_open") and isinstance(value, dict):
                own = value.get("lineno")
                at = own if isinstance(own, int) else lineno
                for part, inner in value.items():
                    if isinstance(inner, (dict, list)):
                        body = part == "body" and key in _LOOPS
                        stack.append((inner, at, max(guarded, GUARDED) if called and body
                                      else guarded, checked, loop,
                                      inside or part in _LOOPED_PARTS))
                continue
            if key in _BRANCHING and isinstance(value, dict):
                keep = _BRANCHING[key]
                branch, names_ = (_if_branches(value, guarded, checked)
                                  if key == "PLpgSQL_stmt_if" else (GUARDED, checked))
                for part, inner in value.items():
                    if isinstance(inner, (dict, list)):
                        stack.append((inner, lineno, guarded, checked, loop, inside)
                                     if part == keep else
                                     (inner, lineno, max(guarded, branch), names_, loop, inside))
                continue
            if key == "PLpgSQL_stmt_block":
                blocks += 1
                if isinstance(value, dict) and value.get("exceptions"):
                    exceptions = value["exceptions"]
                    level = IDEMPOTENT if _duplicates_only(exceptions) else GUARDED
                    stack.append((exceptions, lineno, GUARDED, checked, loop, inside))  # (handlers)
                    stack.append(({k: v for k, v in value.items() if k != "exceptions"},
                                  lineno, max(guarded, level), checked, loop, inside))
                    continue
            if key == "PLpgSQL_expr" and isinstance(value, dict):
                if inside and looped is not None:
                    looped.add(lineno)
                query = value.get("query", "")
                mode = value.get("parseMode", 0)
                if mode == 0:
                    out.append((lineno, query, guarded, checked))
                elif mode == 2:
                    out.append((lineno, "SELECT " + query, guarded, checked))
                elif mode in (3, 4, 5):
                    _, sep, tail = query.partition(":=")
                    if not sep:
                        _, sep, tail = query.partition("=")
                    if sep:
                        out.append((lineno, "SELECT " + tail, guarded, checked))
                continue
            if key == "datums":
                continue
            if isinstance(value, (dict, list)):
                stack.append((value, lineno, guarded, checked, loop, inside))
    return dynamic, blocks


# the parts of a loop or OPEN that may run no time: a loop's body, a cursor's query
_LOOPED_PARTS = frozenset({"body", "query", "argquery", "dynquery"})


def _leaves_early(tree: Any) -> bool:
    """Whether a function's body may end before its last statement: a ``CONTINUE``,
    ``EXIT`` or ``RETURN`` anywhere but as that last statement."""
    function = (tree[0] if isinstance(tree, list) and tree and isinstance(tree[0], dict)
                else {}).get("PLpgSQL_function") or {}
    block = (function.get("action") or {}).get("PLpgSQL_stmt_block") or {}
    body = block.get("body")
    if not isinstance(body, list):
        return True  # (a shape not known here: read as leaving)
    if body and isinstance(body[-1], dict) and "PLpgSQL_stmt_return" in body[-1]:
        body = body[:-1]
    return _leaves(body)


def _leaves(body: Any) -> bool:
    """Whether a body (a loop's, a block's) holds a ``CONTINUE``, ``EXIT`` or ``RETURN``
    written in it."""
    stack = [body]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if "PLpgSQL_stmt_exit" in node or (node.get("PLpgSQL_stmt_return") or {}):
                return True  # (the parser ends every body with a RETURN of its own: {})
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
    return False
