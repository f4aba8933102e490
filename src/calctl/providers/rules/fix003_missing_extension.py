from __future__ import annotations

import re

from calctl.documents import Edit
from calctl.providers.rules.base import FixRule, Found, RuleInput
from calctl.sql.extensions import extension_of

_MISSING = re.compile(r'\b(function|type|operator class)\s+"?([\w.]+)"?(?:\([^)]*\))?\s+'
                      r"does not exist", re.I)
_CREATE_EXTENSION = re.compile(r'\bCREATE\s+EXTENSION\s+(?:IF\s+NOT\s+EXISTS\s+)?"?([\w-]+)"?',
                               re.I)


class MissingExtension(FixRule):
    """A migration failed because it uses an extension's function or type and no
    migration before it creates the extension.

    Problem: ``uuid_generate_v4()``, ``citext``, ``gen_random_bytes()``, ``geometry`` …
    come from an extension (uuid-ossp, citext, pgcrypto, postgis …); without
    ``CREATE EXTENSION`` earlier, PostgreSQL says the function or type does not exist.
    Fix: ``CREATE EXTENSION IF NOT EXISTS "<name>";`` at the top of the failing
    migration. When a later migration creates the extension, FIX001 moves the files
    instead.
    """

    code = "FIX003"
    name = "missing-extension"

    def diagnose(self, inp: RuleInput) -> Found | None:
        m = _MISSING.search(inp.message)
        if m is None or inp.failing is None:
            return None
        object_name = m.group(2).split(".")[-1].lower()
        extension = extension_of(object_name)
        if extension is None:
            return None
        order = [f.path for f in inp.analysis.files]
        upto = order[: order.index(inp.failing) + 1] if inp.failing in order else []
        for path in upto:
            if any(c.group(1).lower() == extension for c in
                   _CREATE_EXTENSION.finditer(inp.text_of(path))):
                return None  # created already: not this fault
        summary = (f"{inp.failing} uses {m.group(1).lower()} {object_name}, from the "
                   f"{extension} extension, which no earlier migration creates")
        edit = Edit(op="replace", path=inp.dir_prefix + inp.failing, search="", line=1,
                    replace=f'CREATE EXTENSION IF NOT EXISTS "{extension}";\n')
        return Found(summary, f'Fix: CREATE EXTENSION IF NOT EXISTS "{extension}" at the top '
                     f"of {inp.failing}. The server must have the extension installed; "
                     "creating it may need a superuser or a trusted extension.", [edit],
                     confidence=0.8)
