"""Finding errors in text: one parser module per format, each ``parse(lines)`` →
:class:`~calctl.report.model.ParsedError` list. :func:`last_error` asks them all and
keeps the error that ends last; :data:`TRIGGER` tells a log reader which lines may
belong to an error block (so it keeps only those regions of a large log)."""

from __future__ import annotations

import re

from calctl.report.model import ParsedError
from calctl.report.parsers import node, postgres, pytest, python

PARSERS = (python.parse, node.parse, postgres.parse, pytest.parse)

TRIGGER = re.compile(
    r"Traceback \(most recent call last\)|^\s*File \"|^\s+at \S|(?:ERROR|FATAL|PANIC):  |"
    r"psql:\S+:\d+: |^E\s|^\S+:\d+: (?:in \S+|[A-Za-z_][\w.]*)$|^_{3,} .+ _{3,}$|"
    r"^During handling of the above|^The above exception was")


def find_errors(lines: list[str]) -> list[ParsedError]:
    """Every error any parser finds in ``lines``, in no particular order."""
    return [error for parse in PARSERS for error in parse(lines)]


def last_error(lines: list[str]) -> ParsedError | None:
    """The error that ends last in ``lines`` (the widest, when two end together: a
    chained traceback over its last part)."""
    errors = find_errors(lines)
    if not errors:
        return None
    return max(errors, key=lambda e: (e.end, e.end - e.start))
