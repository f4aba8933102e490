"""What a parser finds in text, and what a report is built from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Frame:
    """One stack frame as the log printed it (``path`` absolute or relative)."""

    path: str
    line: int | None = None
    function: str = ""
    column: int | None = None
    code: str = ""  # the source line the log printed with the frame, if any


@dataclass(frozen=True)
class ParsedError:
    """One error block found in lines ``start`` … ``end - 1`` of the text given.

    ``frames`` run outermost first, innermost last (whatever order the format prints);
    ``chain`` holds the earlier exceptions of a chained Python traceback
    (``Type: message``), oldest first.
    """

    kind: str  # python | node | postgres | pytest
    error_type: str
    message: str
    start: int
    end: int
    frames: tuple[Frame, ...] = ()
    chain: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failure:
    """A failure before it is scrubbed: the raw material of a bug report.

    ``traceback`` is the error block as text; ``file``/``line`` a location given
    outright (``--file/--line``, a finding) that wins over the frames.
    """

    source: str  # log | text | finding | bug-report
    error_type: str
    message: str
    frames: tuple[Frame, ...] = ()
    traceback: str = ""
    breadcrumbs: tuple[str, ...] = ()
    file: str | None = None
    line: int | None = None
    column: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    chain: tuple[str, ...] = ()
