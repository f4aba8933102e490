"""pglast's parser loaded without its AST module: pglast still works in full after it."""

from __future__ import annotations

import subprocess
import sys


def test_pglast_works_in_full_after_the_light_load() -> None:
    code = """
import sys
from calctl.sql.pgparser import parser
p = parser()
assert p.parse_sql_json("SELECT 1").startswith('{"version"')
assert "pglast.enums.parsenodes" not in sys.modules  # not loaded yet
import pglast
import pglast.ast
assert pglast.ast.SelectStmt.__name__ == "SelectStmt"
assert sys.modules["pglast.ast"] is pglast.ast
assert pglast.enums.ConstrType.CONSTR_FOREIGN == 9
assert "ConstrType" in dir(pglast.enums)
from pglast import ast
(raw,) = p.parse_sql("SELECT 1")
assert isinstance(raw.stmt, ast.SelectStmt)
import pickle
assert pickle.loads(pickle.dumps(raw)) == raw
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
