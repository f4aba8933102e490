"""Where a command's output says it failed: a minimal reading of pytest and Python
traceback output (the innermost frame inside the project, and the error line).

The report command has fuller parsers (``calctl.report.parsers``); this is only what
a ``command`` check's finding needs to point at a file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
_PYTEST_LOCATION = re.compile(r"^(?P<path>[^\s:][^:\n]*\.py):(?P<line>\d+): (?P<error>\w+)")
_PYTEST_FAILED = re.compile(r"^(FAILED|ERROR) (?P<test>\S+)(?: - (?P<error>.+))?$")
_EXCEPTION = re.compile(r"^(?P<error>[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Failure)"
                        r"\b.*)$")


@dataclass(frozen=True)
class Location:
    file: str | None
    line: int | None
    error: str
    traceback: str


def locate(output: str, root: Path) -> Location:
    """The failure ``output`` (a command's stdout and stderr) describes."""
    lines = output.splitlines()
    file: str | None = None
    line: int | None = None
    error = ""
    first_frame = None
    for index, text in enumerate(lines):
        frame = _FRAME.match(text) or _PYTEST_LOCATION.match(text)
        if frame is not None:
            relative = _inside(frame.group("path"), root)
            if relative is not None:
                file, line = relative, int(frame.group("line"))
            if first_frame is None:
                first_frame = index
        failed = _PYTEST_FAILED.match(text)
        if failed is not None and failed.group("error"):
            error = failed.group("error").strip()
        elif not error or _EXCEPTION.match(text.strip()):
            exception = _EXCEPTION.match(text.strip())
            if exception is not None:
                error = exception.group("error")
    if not error:
        error = next((t.strip() for t in reversed(lines) if t.strip()), "")
    start = max(0, (first_frame or 0) - 1)
    traceback = "\n".join(lines[start:])[-8000:] if first_frame is not None else ""
    return Location(file, line, error[:500], traceback)


def _inside(path: str, root: Path) -> str | None:
    """``path`` relative to ``root`` when it lies inside (and not in a virtualenv)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate
    try:
        relative = candidate.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return None
    parts = relative.parts
    if any(p in (".venv", "venv", "site-packages", ".tox") for p in parts):
        return None
    return relative.as_posix()
