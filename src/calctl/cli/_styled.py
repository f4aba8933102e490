"""Styled text for results on stdout: rich on a terminal, plain text everywhere else.

Renderers build lines of ``(text, style)`` pieces instead of rich markup, so that
nothing needs escaping (paths and SQL may hold ``[`` or ``:smile:``), and so that the
common case — stdout is a pipe, a file or a CI log — is a plain join that does not
import rich at all (rich's console and markup modules cost more to import than
rendering a 2,000-file result).
"""

from __future__ import annotations

from calctl.terminal import plain_output, printable, style_key

Piece = tuple[str, str]   # (text, rich style; "" for none)
Line = list[Piece]

__all__ = ["Line", "Piece", "plain_output", "render", "style_key"]


def render(lines: list[Line]) -> str:
    """The lines as the stdout console prints them, ending with a newline."""
    # file names and messages quote repository content: no escape sequence reaches the
    # terminal raw
    if plain_output():
        return printable("".join("".join(text for text, _ in line) + "\n" for line in lines))
    from rich.text import Text

    from calctl.output import out_console

    console = out_console()
    with console.capture() as captured:
        for line in lines:
            console.print(Text.assemble(*((printable(t), s) if s else printable(t)
                                          for t, s in line)),
                          highlight=False, emoji=False)
    return captured.get()
