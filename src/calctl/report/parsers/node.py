"""Node.js stacks.

::

    TypeError: Cannot read properties of undefined (reading 'id')
        at total (/srv/app/src/cart.js:14:22)
        at async handler (file:///srv/app/src/api.mjs:3:5)
        at node:internal/process/task_queues:95:5

The error line is the one just above the first ``at`` line; frames are printed
innermost first and returned outermost first.
"""

from __future__ import annotations

import re

from calctl.report.model import Frame, ParsedError

AT = re.compile(r"^\s+at (?:(?:async |new )?(?P<func>.+?) \((?P<loc>.+)\)|(?P<bare>\S+))\s*$")
LOCATION = re.compile(r"^(?:file://)?(?P<path>.+?):(?P<line>\d+)(?::(?P<col>\d+))?$")
ERROR_LINE = re.compile(r"^(?:Uncaught )?(?P<type>[A-Za-z_$][\w$.]*(?: \[[A-Z0-9_]+\])?)"
                        r"(?::\s?(?P<msg>.*))?$")


def _frame(match: re.Match[str]) -> Frame:
    loc = match.group("loc") or match.group("bare") or ""
    func = (match.group("func") or "").strip()
    where = LOCATION.match(loc)
    if where is None:
        return Frame(loc, None, func)
    col = where.group("col")
    return Frame(where.group("path"), int(where.group("line")), func,
                 int(col) if col else None)


def parse(lines: list[str]) -> list[ParsedError]:
    """Every Node.js stack in ``lines``."""
    found: list[ParsedError] = []
    index = 0
    while index < len(lines):
        if not AT.match(lines[index]) or index == 0:
            index += 1
            continue
        head = index - 1
        error = ERROR_LINE.match(lines[head].strip())
        if error is None or AT.match(lines[head]):
            index += 1
            continue
        frames: list[Frame] = []
        while index < len(lines):
            match = AT.match(lines[index])
            if match is None:
                break
            frames.append(_frame(match))
            index += 1
        error_type = error.group("type").split(" [")[0]
        found.append(ParsedError("node", error_type, (error.group("msg") or "").strip(), head,
                                 index, tuple(reversed(frames))))
    return found
