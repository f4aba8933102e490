"""Approximate analysis from sqlparse tokens, for text the PostgreSQL parser rejects.

Recognises the statement heads that matter for ordering (``CREATE [OR REPLACE]
TABLE/VIEW/TYPE/FUNCTION/INDEX/SEQUENCE/SCHEMA/EXTENSION …``, ``ALTER TABLE``,
``REFERENCES t``, ``FROM``/``JOIN``/``INTO``/``UPDATE`` targets). Everything it
finds is approximate: the caller flags the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from calctl.sql.facts import CREATE, REPLACE, WEAK, Fact, Span, fact

_NAME = r'((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]+"|[A-Za-z_][\w$]*))?)'
_CREATE = re.compile(
    r"\bCREATE\s+(OR\s+REPLACE\s+)?(?:(?:GLOBAL|LOCAL)\s+)?(?:TEMP(?:ORARY)?\s+|UNLOGGED\s+)?"
    r"(TABLE|VIEW|MATERIALIZED\s+VIEW|TYPE|DOMAIN|FUNCTION|PROCEDURE|SEQUENCE|SCHEMA|"
    r"EXTENSION|(?:UNIQUE\s+)?INDEX(?:\s+CONCURRENTLY)?)\s+(?:IF\s+NOT\s+EXISTS\s+)?" + _NAME,
    re.I,
)
_REFS = re.compile(r"\b(REFERENCES|FROM|JOIN|INTO|UPDATE|ALTER\s+TABLE(?:\s+ONLY)?"
                   r"(?:\s+IF\s+EXISTS)?|ON)\s+" + _NAME, re.I)
_KIND = {"table": ("relation", "table"), "view": ("relation", "view"),
         "materialized view": ("relation", "materialized view"), "type": ("type", "type"),
         "domain": ("type", "domain"), "function": ("function", "function"),
         "procedure": ("function", "procedure"), "sequence": ("relation", "sequence"),
         "schema": ("schema", "schema"), "extension": ("extension", "extension")}
_KEYWORDS = frozenset({"select", "only", "lateral", "each", "conflict", "delete", "update",
                       "insert", "table", "commit", "true", "false", "null", "not", "exists",
                       "the", "public", "schema"})


def _ident(raw: str) -> list[str]:
    parts = [p.strip() for p in raw.split(".")]
    return [p[1:-1] if p.startswith('"') else p.lower() for p in parts]


def _statements(text: str) -> list[tuple[int, str]]:
    """(first line, text without comments) of each statement, split on top-level ``;``
    by sqlparse's lexer (which knows quotes, dollar quotes and comments)."""
    from sqlparse import tokens as T
    from sqlparse.lexer import tokenize

    out: list[tuple[int, str]] = []
    line = 1
    start_line = 0
    parts: list[str] = []
    for ttype, value in tokenize(text):  # type: ignore[no-untyped-call]
        if ttype in T.Comment:
            line += value.count("\n")
            continue
        if ttype is T.Punctuation and value == ";":
            if parts and "".join(parts).strip():
                out.append((start_line, "".join(parts)))
            parts, start_line = [], 0
            continue
        if not start_line and value.strip():
            start_line = line
        parts.append(value)
        line += value.count("\n")
    if parts and "".join(parts).strip():
        out.append((start_line or line, "".join(parts)))
    return out


def analyse_tokens(text: str, search_path: Sequence[str]) -> tuple[list[Fact], list[Span]]:
    """Facts and statement spans found from sqlparse tokens and statement-head patterns."""
    path = tuple(search_path) or ("public",)
    facts: list[Fact] = []
    spans: list[Span] = []
    for line, statement in _statements(text):
        last = line + statement.strip().count("\n")
        spans.append(Span(line, last, ()))
        created: set[str] = set()
        for m in _CREATE.finditer(statement):
            head = re.sub(r"\s+", " ", m.group(2).lower())
            kind, display = _KIND.get(head, ("relation", "index"))
            parts = _ident(m.group(3))
            if kind in ("schema", "extension"):
                identity = parts[-1]
            else:
                identity = ".".join(parts[-2:]) if len(parts) > 1 else f"{path[0]}.{parts[0]}"
            action = REPLACE if m.group(1) else CREATE
            lead = len(statement) - len(statement.lstrip())
            at = line + statement.count("\n", lead, max(m.start(), lead))
            facts.append(fact(action, kind, (identity,), at, 1, display, open=True))
            created.add(identity)
        for m in _REFS.finditer(statement):
            parts = _ident(m.group(2))
            if parts[-1] in _KEYWORDS:
                continue
            names = ((".".join(parts[-2:]),) if len(parts) > 1
                     else tuple(f"{s}.{parts[0]}" for s in path))
            if any(n in created for n in names):
                continue
            facts.append(fact(WEAK, "relation", names, line, 1, "table"))
    return facts, spans
