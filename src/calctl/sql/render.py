"""Rendering templated migrations (Go templates, Flyway placeholders) before parsing.

``{{ .Name }}``, ``{{ index .Options "Name" }}`` and ``${name}`` are replaced by
the value ``defines`` gives for ``Name``; control actions (``{{ if … }}``,
``{{ end }}``) are dropped. A placeholder with no value becomes an identifier
(``tpl_name``) so the text still parses, and is reported back so the file is
flagged approximate. Line numbers never change: placeholders hold no newline. A
placeholder inside a comment is left alone: it is text, not a template.
"""

from __future__ import annotations

import bisect
import re

_GO = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_FLYWAY = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.]*)\}")
_KEY = re.compile(r'"([^"]+)"\s*$|\.([A-Za-z_][A-Za-z0-9_]*)\s*$')
_CONTROL = re.compile(r"^(if|else|end|range|with|define|block|template|/\*)\b")
# a psql meta-command line (\set, \i …): blanked before parsing, offsets kept
PSQL_META = re.compile(r"^[ \t]*\\[^\n]*", re.M)


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

    def replace(m: re.Match[str], expression: str, source: str,
                comments: list[tuple[int, int]]) -> str:
        if comments and _inside(m.start(), comments):
            return m.group(0)
        if _CONTROL.match(expression):
            return " " * 0
        key = template_key(expression)
        if key in defines:
            return defines[key]
        missing.append((source.count("\n", 0, m.start()) + 1, expression))
        return "tpl_" + re.sub(r"\W", "_", key).lower()

    comments = comment_ranges(text)
    out = _GO.sub(lambda m: replace(m, m.group(1), text, comments), text)
    if out != text:
        comments = comment_ranges(out)
    out = _FLYWAY.sub(lambda m: replace(m, m.group(1), out, comments), out)
    return out, missing


def _inside(offset: int, ranges: list[tuple[int, int]]) -> bool:
    i = bisect.bisect_right(ranges, (offset, 1 << 62)) - 1
    return i >= 0 and ranges[i][0] <= offset < ranges[i][1]


_LEXEME = re.compile(r"--|/\*|'|\"|\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def comment_ranges(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every comment of ``text`` (``--`` to the end of the line,
    nested ``/* */``), skipping string literals, quoted names and dollar quotes."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while True:
        m = _LEXEME.search(text, i)
        if m is None:
            return out
        start, token = m.start(), m.group(0)
        if token == "--":
            end = text.find("\n", start)
            end = n if end < 0 else end
            out.append((start, end))
        elif token == "/*":
            depth, end = 1, start + 2
            while depth and end < n:
                if text.startswith("/*", end):
                    depth, end = depth + 1, end + 2
                elif text.startswith("*/", end):
                    depth, end = depth - 1, end + 2
                else:
                    end += 1
            out.append((start, end))
        elif token in ("'", '"'):
            escapes = token == "'" and start > 0 and text[start - 1] in "eE"
            end = start + 1
            while end < n:
                c = text[end]
                if escapes and c == "\\":
                    end += 2
                    continue
                if c == token:
                    if text.startswith(token, end + 1):  # a doubled quote
                        end += 2
                        continue
                    break
                end += 1
            end += 1
        else:  # a dollar quote: to the same tag
            close = text.find(token, m.end())
            end = n if close < 0 else close + len(token)
        i = max(end, start + 1)
