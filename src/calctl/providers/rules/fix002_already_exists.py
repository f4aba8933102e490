from __future__ import annotations

import re

from calctl.documents import Edit
from calctl.providers.rules.base import FixRule, Found, RuleInput

_EXISTS = re.compile(r'\b(relation|schema|extension|sequence|index)\s+"([^"]+)"\s+already '
                     r"exists", re.I)
_CREATE = re.compile(
    r"\bCREATE\s+(?:(?:UNIQUE|TEMP|TEMPORARY|UNLOGGED)\s+)*"
    r"(?:TABLE|INDEX(?:\s+CONCURRENTLY)?|SEQUENCE|SCHEMA|MATERIALIZED\s+VIEW|EXTENSION|"
    r"FOREIGN\s+TABLE)\s+(?!IF\s+NOT\s+EXISTS\b)(?:ONLY\s+)?"
    r'((?:"[^"]+"|[\w$]+)(?:\s*\.\s*(?:"[^"]+"|[\w$]+))?)', re.I)


class AlreadyExists(FixRule):
    """A migration failed because the relation, schema or extension it creates exists.

    Problem: the object was made outside the migrations, by an earlier file, or by a run
    of this file that was not recorded, so the plain ``CREATE`` fails with "already
    exists" (SQLSTATE 42P07, 42P06, 42710).
    Fix: ``CREATE … IF NOT EXISTS`` in the failing statement (tables, indexes, sequences,
    schemas, materialized views, extensions, foreign tables). Views, types and functions
    have no such clause: diagnosed without a patch.
    """

    code = "FIX002"
    name = "already-exists"

    def diagnose(self, inp: RuleInput) -> Found | None:
        m = _EXISTS.search(inp.message)
        if m is None or inp.failing is None:
            return None
        kind, name = m.group(1).lower(), m.group(2)
        text = inp.text_of(inp.failing)
        summary = f"{inp.failing} creates {kind} {name}, which already exists"
        hits = [c for c in _CREATE.finditer(text)
                if c.group(1).split(".")[-1].strip().strip('"').lower() == name.lower()]
        if not hits:
            return Found(summary, "No CREATE statement of that name without IF NOT EXISTS "
                         f"was found in {inp.failing} (a view, type or function has no IF NOT "
                         "EXISTS); make the statement skip an existing object by hand.",
                         confidence=0.6)
        line = inp.report.line
        if len(hits) > 1 and line is not None:
            near = [c for c in hits if text.count("\n", 0, c.start()) + 1 <= line]
            hits = near[-1:] or hits[:1]
        hit = hits[0]
        start = text.count("\n", 0, hit.start()) + 1
        head = hit.group(0)
        cut = hit.start(1) - hit.start()
        edit = Edit(op="replace", path=inp.dir_prefix + inp.failing, search=head,
                    replace=head[:cut] + "IF NOT EXISTS " + head[cut:], line=start)
        return Found(summary, f"Fix: add IF NOT EXISTS (line {start}) so the migration "
                     f"skips a {kind} that is already there. Check the existing one has the "
                     "definition this migration expects.", [edit], confidence=0.7)
