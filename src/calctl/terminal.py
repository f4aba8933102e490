"""Whether stdout gets styled output, and what decides how it looks: here, not in
``cli/``, because the early analysis child (``sql/early.py``) computes the key of a
replayed output before the CLI (and Typer) is imported."""

from __future__ import annotations

import os
import re
import sys

# rich's own switches that colour output that is not a terminal
_FORCING = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")


def plain_output() -> bool:
    """True when the stdout console would print no colours or styles."""
    if any(os.environ.get(name) for name in _FORCING):
        return False
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return True


def style_key() -> str:
    """What decides how styled output looks, for keys of replayed output: plain, or the
    environment rich picks colours from."""
    if plain_output():
        return "plain"
    names = ("NO_COLOR", "TERM", "COLORTERM", *_FORCING)
    return "styled:" + "|".join(os.environ.get(name, "") for name in names)


# C0 controls but newline and tab, DEL, and C1 controls: an escape sequence in a log line,
# a check's reply or a model's answer could move the cursor, retitle the window or hide
# text when printed raw
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), *range(0x0b, 0x20),
                                         *range(0x7f, 0xa0))}


_ANY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` safe to show on a terminal: control characters spelled ``\\xNN``."""
    if _ANY_CONTROL.search(text) is None:  # the common case, at C speed
        return text
    return text.translate(_CONTROLS)
