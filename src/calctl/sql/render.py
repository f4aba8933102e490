"""Rendering templated migrations (Go templates, Flyway placeholders) before parsing.

``{{ .Name }}``, ``{{ index .Options "Name" }}`` and ``${name}`` are replaced by
the value ``defines`` gives for ``Name``; control actions (``{{ if … }}``,
``{{ end }}``) are dropped. A placeholder with no value becomes an identifier
(``tpl_name``) so the text still parses, and is reported back so the file is
flagged approximate. Line numbers never change: placeholders hold no newline.
"""

from __future__ import annotations

import re

_GO = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_FLYWAY = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_KEY = re.compile(r'"([^"]+)"\s*$|\.([A-Za-z_][A-Za-z0-9_]*)\s*$')
_CONTROL = re.compile(r"^(if|else|end|range|with|define|block|template|/\*)\b")


def template_key(expression: str) -> str:
    """The define name a placeholder expression asks for (``index .Options "X"`` → ``X``)."""
    m = _KEY.search(expression)
    if m:
        return m.group(1) or m.group(2)
    return expression.strip().lstrip(".")


def render(text: str, defines: dict[str, str]) -> tuple[str, list[tuple[int, str]]]:
    """(rendered text, [(line, placeholder) …] left without a value)."""
    if "{{" not in text and "${" not in text:
        return text, []
    missing: list[tuple[int, str]] = []

    def replace(m: re.Match[str], expression: str, source: str) -> str:
        if _CONTROL.match(expression):
            return " " * 0
        key = template_key(expression)
        if key in defines:
            return defines[key]
        missing.append((source.count("\n", 0, m.start()) + 1, expression))
        return "tpl_" + re.sub(r"\W", "_", key).lower()

    out = _GO.sub(lambda m: replace(m, m.group(1), text), text)
    out = _FLYWAY.sub(lambda m: replace(m, m.group(1), out), out)
    return out, missing
