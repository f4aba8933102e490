"""calctl's comments inside migration files.

* ``-- calctl: ignore CAL008[, CAL…]`` silences those rules for the statement the
  comment is in or above (after the previous statement's last line);
* ``-- calctl: ignore-file CAL…`` silences them for the whole file;
* squawk's ``-- squawk-ignore rule[, rule…]`` and ``-- squawk-ignore-file [rule…]``
  (``/* … */`` too) likewise, kept as ``squawk:<rule>`` (``squawk:*``: a file-wide
  comment naming no rule, which squawk reads as every rule); the rules whose
  :attr:`~calctl.sql.rules.Rule.squawk` names them are silenced (:mod:`calctl.sql.plan`);
* ``-- calctl: no-transaction`` (or a name containing ``.autocommit.``, or goose's
  ``-- +goose NO TRANSACTION``, or dbmate's ``-- migrate:up transaction:false``) marks a
  file to run statement by statement outside a transaction.

They are read from the file's text as written (before templates are rendered).
"""

from __future__ import annotations

import re

_IGNORE = re.compile(r"--\s*calctl:\s*ignore(-file)?\s+([A-Za-z0-9_, ]+)", re.I)
# calctl's own marker, and the ones goose and dbmate write for the same thing at the
# start of a line. One pattern of the three (`^` with re.M) was ~10x slower on every
# file: the regex engine then tries every position, while a pattern that starts with a
# literal ("--", "\n") is searched for that literal first. So the line start is the
# text's start (match) or a "\n" (search), which is what `^` means under re.M.
_NO_TX_MARK = re.compile(r"--\s*calctl:\s*no-transaction\b", re.I)
_TOOL_NO_TX = (r"(?:--\s*\+goose\s+no\s+transaction\b"
               r"|\s*--\s*migrate:up\b[^\n]*\btransaction:false\b)")
_TOOL_NO_TX_FIRST = re.compile(_TOOL_NO_TX, re.I)
_TOOL_NO_TX_LINE = re.compile("\n" + _TOOL_NO_TX, re.I)
_SEPARATOR = re.compile(r"[,\s]+")
# squawk's own reading: the names up to the comment's end (or a `--` note), split on ","
_SQUAWK = re.compile(r"(?:--|/\*)[ \t]*squawk-ignore(-file)?(?![\w-])([^\n]*)", re.I)
SQUAWK_PREFIX = "squawk:"
SQUAWK_ALL = SQUAWK_PREFIX + "*"
# names squawk 2.70 also accepts (in comments, --exclude and .squawk.toml) → its rules
SQUAWK_ALIASES = {
    "prefer-timestamptz": ("prefer-timestamp-tz",),
    "require-timeout-settings": ("require-lock-timeout", "require-statement-timeout"),
}


def squawk_names(name: str) -> tuple[str, ...]:
    """The squawk rules a name squawk accepts stands for (itself, or what it aliases)."""
    return SQUAWK_ALIASES.get(name, (name,))


def ignores(text: str) -> tuple[tuple[str, ...], list[tuple[int, tuple[str, ...]]]]:
    """File-wide ignore codes, and (line, codes) of statement-level ignore comments."""
    file_codes: list[str] = []
    lines: list[tuple[int, tuple[str, ...]]] = []
    if "squawk-ignore" in text:
        _squawk_ignores(text, file_codes, lines)
    if "calctl:" not in text:
        return tuple(file_codes), lines
    for m in _IGNORE.finditer(text):
        codes = tuple(c.strip().upper() for c in _SEPARATOR.split(m.group(2)) if c.strip())
        if m.group(1):
            file_codes.extend(codes)
        else:
            lines.append((text.count("\n", 0, m.start()) + 1, codes))
    return tuple(file_codes), lines


def _squawk_ignores(text: str, file_codes: list[str],
                    lines: list[tuple[int, tuple[str, ...]]]) -> None:
    for m in _SQUAWK.finditer(text):
        names = m.group(2)
        if m.group(0).startswith("/*"):
            names = names.split("*/", 1)[0]
        names = names.split("--", 1)[0]
        codes = tuple(SQUAWK_PREFIX + rule for n in names.split(",") if n.strip()
                      for rule in squawk_names(n.strip().lower()))
        if m.group(1):
            file_codes.extend(codes or (SQUAWK_ALL,))
        elif codes:
            lines.append((text.count("\n", 0, m.start()) + 1, codes))


def statement_ignores(ignore_lines: list[tuple[int, tuple[str, ...]]], after: int,
                      last: int) -> tuple[str, ...]:
    """The codes of the ignore comments on lines ``(after, last]``: those of a statement
    ending on ``last`` whose predecessor ended on ``after``."""
    return tuple(c for ln, cs in ignore_lines if after < ln <= last for c in cs)


def marked_no_transaction(text: str, autocommit: bool) -> bool:
    """Whether the file says it must run outside a transaction."""
    # every mark is a `--` comment: a file without one (many) needs no search
    return autocommit or ("--" in text and bool(
        _NO_TX_MARK.search(text) or _TOOL_NO_TX_FIRST.match(text)
        or _TOOL_NO_TX_LINE.search(text)))
