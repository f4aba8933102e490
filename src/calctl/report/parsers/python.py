"""Python tracebacks, chained ones included.

::

    Traceback (most recent call last):
      File "/srv/app/models.py", line 12, in total
        return sum(x.price for x in items)
               ^^^^^^^^^^^^^^^^^^^^^^^^^^^
    AttributeError: 'NoneType' object has no attribute 'price'

A traceback followed by "During handling of the above exception, another exception
occurred:" or "The above exception was the direct cause of the following exception:"
and another traceback is one error: the last exception, with the earlier ones in
``chain``. A prefix before ``Traceback`` (a log's timestamp) is stripped from the
lines that repeat it.
"""

from __future__ import annotations

import re

from calctl.report.model import Frame, ParsedError

HEADER = "Traceback (most recent call last):"
CHAINED = ("During handling of the above exception, another exception occurred:",
           "The above exception was the direct cause of the following exception:")
FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)'
                   r'(?:, in (?P<func>.+?)|, column (?P<col>\d+))?\s*$')
EXCEPTION = re.compile(r"^(?P<type>[A-Za-z_][\w.]*)(?::\s?(?P<msg>.*))?$")
# a line that starts another log record, not the rest of a message
LOG_RECORD = re.compile(r"^(?:\d{4}-\d\d-\d\d|\[\d|\d\d:\d\d:\d\d|"
                        r"(?:DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\b)")
MAX_MESSAGE_LINES = 10


def parse(lines: list[str]) -> list[ParsedError]:
    """Every traceback in ``lines`` (chains as one error)."""
    found: list[ParsedError] = []
    index = 0
    while index < len(lines):
        at = lines[index].find(HEADER)
        if at < 0:
            index += 1
            continue
        error = _parse_chain(lines, index, lines[index][:at])
        if error is None:
            index += 1
            continue
        found.append(error)
        index = error.end
    return found


def _strip(line: str, prefix: str) -> str:
    return line[len(prefix):] if prefix and line.startswith(prefix) else line


def _parse_chain(lines: list[str], start: int, prefix: str) -> ParsedError | None:
    chain: list[str] = []
    index = start
    while True:
        part = _parse_one(lines, index, prefix)
        if part is None:
            if not chain:
                return None
            break
        frames, error_type, message, index = part
        after = index
        while after < len(lines) and not _strip(lines[after], prefix).strip():
            after += 1
        marker = _strip(lines[after], prefix).strip() if after < len(lines) else ""
        if marker in CHAINED:
            nxt = after + 1
            while nxt < len(lines) and not _strip(lines[nxt], prefix).strip():
                nxt += 1
            if nxt < len(lines) and HEADER in lines[nxt]:
                chain.append(f"{error_type}: {message}" if message else error_type)
                index = nxt
                continue
        return ParsedError("python", error_type, message, start, index, tuple(frames),
                           tuple(chain))
    return None


def _parse_one(lines: list[str], start: int,
               prefix: str) -> tuple[list[Frame], str, str, int] | None:
    """(frames, type, message, index after the block) of the traceback at ``start``."""
    frames: list[Frame] = []
    index = start + 1
    while index < len(lines):
        line = _strip(lines[index], prefix)
        match = FRAME.match(line)
        if match:
            code = ""
            if index + 1 < len(lines):
                nxt = _strip(lines[index + 1], prefix)
                if nxt.startswith("    ") and not FRAME.match(nxt):
                    code = nxt.strip()
                    index += 1
            col = match.group("col")
            frames.append(Frame(match.group("path"), int(match.group("line")),
                                (match.group("func") or "").strip(),
                                int(col) if col else None, code))
            index += 1
            continue
        if line.startswith(" ") or not line.strip():
            index += 1  # carets, a SyntaxError's source line, "[Previous line repeated …]"
            continue
        match = EXCEPTION.match(line.rstrip())
        if match is None:
            return None
        message_lines = [match.group("msg") or ""]
        index += 1
        while index < len(lines) and len(message_lines) < MAX_MESSAGE_LINES:
            more = _strip(lines[index], prefix)
            if not more.strip() or more.strip() in CHAINED or HEADER in more \
                    or LOG_RECORD.match(more) or (prefix and not lines[index].startswith(prefix)):
                break
            message_lines.append(more.rstrip())
            index += 1
        return frames, match.group("type"), "\n".join(message_lines).strip(), index
    return None
