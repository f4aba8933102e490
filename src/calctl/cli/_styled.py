"""Styled text for results on stdout: rich on a terminal, plain text everywhere else.

Renderers build lines of ``(text, style)`` pieces instead of rich markup, so that
nothing needs escaping (paths and SQL may hold ``[`` or ``:smile:``), and so that the
common case — stdout is a pipe, a file or a CI log — is a plain join that does not
import rich at all (rich's console and markup modules cost more to import than
rendering a 2,000-file result).
"""

from __future__ import annotations

import os
import sys

Piece = tuple[str, str]   # (text, rich style; "" for none)
Line = list[Piece]

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


def render(lines: list[Line]) -> str:
    """The lines as the stdout console prints them, ending with a newline."""
    if plain_output():
        return "".join("".join(text for text, _ in line) + "\n" for line in lines)
    from rich.text import Text

    from calctl.output import out_console

    console = out_console()
    with console.capture() as captured:
        for line in lines:
            console.print(Text.assemble(*((t, s) if s else t for t, s in line)),
                          highlight=False, emoji=False)
    return captured.get()
