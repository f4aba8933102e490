"""One JSON encoder for every document, and the stderr console for humans.

stdout carries exactly one document (or NDJSON for streams) with ``--json``;
everything meant for a person's eyes while a command runs goes to stderr.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import date, datetime
from enum import Enum
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def _default(obj: Any) -> Any:
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, (datetime, date)):
        return obj.isoformat()
    if isinstance(obj, PurePath):
        return obj.as_posix()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    raise TypeError(f"cannot encode {type(obj).__name__} as JSON")


def to_json(obj: Any, *, indent: int | None = 2) -> str:
    """Encode a document (dataclass with to_dict, dict, list …) as JSON text."""
    return json.dumps(obj, default=_default, indent=indent, ensure_ascii=False)


def print_json(obj: Any) -> None:
    """Write one JSON document to stdout."""
    sys.stdout.write(to_json(obj) + "\n")
    sys.stdout.flush()


def print_ndjson(obj: Any) -> None:
    """Write one line of an NDJSON stream to stdout and flush it at once."""
    sys.stdout.write(to_json(obj, indent=None) + "\n")
    sys.stdout.flush()


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 file``, ``2 files`` (``words``: the plural when it is not ``word + "s"``):
    never "1 files", nor "file" with "(s)" after it."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


_stderr: Console | None = None
_stdout: Console | None = None
_quiet = False


def set_quiet(quiet: bool) -> None:
    """With ``--quiet`` only errors reach stderr (see :func:`log`)."""
    global _quiet
    _quiet = quiet


def quiet() -> bool:
    """``-q/--quiet`` (before or after the command name): print nothing when there is
    nothing to report; problems and errors still print."""
    return _quiet


def log(message: str, *, style: str | None = None) -> None:
    """A progress or status line for a person, on stderr, unless ``--quiet``."""
    if not _quiet:
        err_console().print(message, markup=False, style=style)


def err_console() -> Console:
    """The rich console on stderr (logs, progress, error messages)."""
    global _stderr
    if _stderr is None:
        from rich.console import Console

        _stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    return _stderr


# The width of stdout when it is no terminal and COLUMNS is unset: a file or a pipe has no
# edge, and rich's 80 columns cut tables (`config show | less`, `migrate rules > rules.txt`)
PIPED_WIDTH = 1 << 14


def out_console() -> Console:
    """The rich console on stdout, for human-readable results."""
    global _stdout
    if _stdout is None:
        import os

        from rich.console import Console

        width = None
        if not os.environ.get("COLUMNS", "").isdigit():
            try:
                width = None if sys.stdout.isatty() else PIPED_WIDTH
            except (AttributeError, ValueError):  # replaced or closed stdout
                width = PIPED_WIDTH
        _stdout = Console(highlight=False, soft_wrap=True, width=width)
    return _stdout
