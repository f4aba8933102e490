"""What squawk's ban-drop-* rules share: a ``DROP`` of some kinds of object, with or
without ``IF EXISTS`` (it only changes whether a missing object is an error)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.statements import Statement

Node = dict[str, Any]


_WORDS = {"OBJECT_MATVIEW": "MATERIALIZED VIEW", "OBJECT_PROCEDURE": "PROCEDURE",
          "OBJECT_ROUTINE": "ROUTINE", "OBJECT_AGGREGATE": "AGGREGATE",
          "OBJECT_OPFAMILY": "OPERATOR FAMILY", "OBJECT_OPCLASS": "OPERATOR CLASS",
          "OBJECT_OPERATOR": "OPERATOR", "OBJECT_CAST": "CAST"}
_AFTER_METHOD = ("OBJECT_OPFAMILY", "OBJECT_OPCLASS")  # their names follow the index method


def _strings(items: list[Node] | None) -> list[str]:
    return [str((item.get("String") or {}).get("sval", "")) for item in items or ()
            if "String" in item]


def object_label(obj: Node, remove_type: str = "") -> str:
    """The name a ``DropStmt`` object is written with (``public.v``), or ""."""
    if "List" in obj:
        parts = _strings(obj["List"].get("items"))
        return ".".join(parts[1:] if remove_type in _AFTER_METHOD else parts)
    if "String" in obj:
        return str(obj["String"].get("sval", ""))
    if "TypeName" in obj:
        return ".".join(_strings(obj["TypeName"].get("names")))
    if "ObjectWithArgs" in obj:
        return ".".join(_strings(obj["ObjectWithArgs"].get("objname")))
    return ""


class DropObjectRule(StatementRule):
    """``DROP <kind>`` of one of ``remove_types`` (the parser's ``OBJECT_*`` names)."""

    kinds = frozenset({"DropStmt"})
    remove_types: ClassVar[frozenset[str]] = frozenset()
    what: ClassVar[str] = ""       # "view"
    consequence: ClassVar[str] = "breaks the clients and objects that still use it"
    hint: ClassVar[str] = ""

    def check_statement(self, stmt: Statement, scope: FileScope) -> Iterator[Finding]:
        node = stmt.node
        if node.get("removeType") not in self.remove_types:
            return
        names = [label for obj in node.get("objects") or ()
                 if (label := object_label(obj, node["removeType"]))]
        named = f" {', '.join(names)}" if names else ""
        words = _WORDS.get(node["removeType"], self.what.upper())
        yield self.finding(stmt, f"DROP {words}{named} {self.consequence}",
                           self.hint)
