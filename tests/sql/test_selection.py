"""Ruff's selection semantics on the real registry (calctl.sql.selection)."""

from __future__ import annotations

import pytest

from calctl.documents import Problem
from calctl.errors import UsageError
from calctl.sql.rules import RULES
from calctl.sql.selection import (
    Layer,
    Selection,
    enabled_codes,
    matching,
    per_file_ignores,
    severities,
)

EVERY = frozenset(cls.code for cls in RULES)
DEFAULT = frozenset(cls.code for cls in RULES if not cls.opt_in)


def test_selectors() -> None:
    assert matching("ALL", "x") == (0, EVERY)
    assert matching("cal011", "x") == (1000, frozenset({"CAL011"}))
    assert matching("forward-dependency", "x") == (1000, frozenset({"CAL001"}))
    assert matching("require-concurrent-index-creation", "x")[1] == {"CAL011"}
    specificity, codes = matching("CAL01", "x")
    assert specificity == 5 and codes == {c for c in EVERY if c.startswith("CAL01")}
    assert matching("ban-something-new", "x", lenient=True) == (1000, frozenset())
    with pytest.raises(UsageError, match="where: 'CAL9' names no lint rule"):
        matching("CAL9", "where")


def test_layers_as_ruff_resolves_them() -> None:
    assert enabled_codes([]) == DEFAULT
    # within a layer: more specific wins, ignore wins a tie
    assert enabled_codes([Layer(select=("ALL",), ignore=("CAL0",),
                                extend_select=("CAL008",))]) == \
        {"CAL008"} | {c for c in EVERY if not c.startswith("CAL0")}
    assert enabled_codes([Layer(select=("CAL008",), ignore=("CAL008",))]) == set()
    # a higher layer's select replaces; its ignore and extend_select add to what is below
    config = Layer(ignore=("CAL011",))
    assert enabled_codes([config, Layer(select=("CAL011",))]) == {"CAL011"}
    assert enabled_codes([config, Layer(ignore=("CAL001",))]) == DEFAULT - {"CAL001",
                                                                              "CAL011"}
    assert enabled_codes([config, Layer(extend_select=("CAL011",))]) == DEFAULT


def test_per_file_ignores_and_severities() -> None:
    table = per_file_ignores({"legacy/": ["ALL"], "V1__*.sql": ["CAL011,CAL008"]}, "cfg")
    selection = Selection(EVERY, table, severities({"CAL0": "error", "CAL011": "info"}, "cfg"),
                          prefix="db/")
    problems = [Problem("CAL011", "n", "warning", path, "m") for path in
                ("legacy/a.sql", "V1__x.sql", "sub/V1__x.sql", "V2__y.sql")]
    problems.append(Problem("CAL008", "n", "warning", "V2__y.sql", "m"))
    kept = selection.apply(problems)
    assert [(p.code, p.path, p.severity) for p in kept] == [
        ("CAL011", "V2__y.sql", "info"), ("CAL008", "V2__y.sql", "error")]
    for bad in ("!", "x/[z-a].sql"):
        with pytest.raises(UsageError, match="cfg: per-file glob"):
            per_file_ignores({bad: ["ALL"]}, "cfg")


def test_squawk_ignore_comments_as_the_analyser_keeps_them() -> None:
    from calctl.sql.directives import ignores

    text = ("-- squawk-ignore-file ban-drop-column -- contract step\n"
            "/* squawk-ignore prefer-timestamptz, require-timeout-settings */\n"
            "CREATE TABLE t (at timestamp);\n"
            "-- squawk-ignore\n"              # names no rule: squawk ignores nothing
            "--squawk-ignore renaming-column\n"
            "-- calctl: ignore CAL008\n")
    file_codes, lines = ignores(text)
    assert file_codes == ("squawk:ban-drop-column",)
    assert lines == [(2, ("squawk:prefer-timestamp-tz", "squawk:require-lock-timeout",
                          "squawk:require-statement-timeout")),
                     (5, ("squawk:renaming-column",)), (6, ("CAL008",))]
    assert ignores("CREATE TABLE t ();\n-- squawk-ignore-file\n")[0] == ("squawk:*",)
