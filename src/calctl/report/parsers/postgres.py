"""PostgreSQL errors, as psql, the server log and calctl's own findings print them.

::

    psql:migrations/011_roles.sql:6: ERROR:  relation "users" does not exist
    LINE 2: REFERENCES users (id)
                       ^
    HINT:  …
      File "migrations/011_roles.sql", line 6, column 12   (calctl's finding)

PostgreSQL writes two spaces after the severity (``ERROR:  ``), which keeps an
application's own "ERROR: …" log lines out; a ``psql:file:line:`` prefix names the
file. ``LINE n:`` and the caret give the position inside the statement.
"""

from __future__ import annotations

import re

from calctl.report.model import Frame, ParsedError

HEAD = re.compile(r"(?:^|\s|\]\s?)(?:psql:(?P<file>[^:\s]+):(?P<line>\d+): )?"
                  r"(?P<sev>ERROR|FATAL|PANIC):  (?P<msg>.*)$")
PSQL = re.compile(r"psql:(?P<file>[^:\s]+):(?P<line>\d+): (?P<sev>ERROR|FATAL|PANIC):\s+"
                  r"(?P<msg>.*)$")
FIELD = re.compile(r"^\s*(?:\S.*\s)?(?P<key>DETAIL|HINT|CONTEXT|STATEMENT|QUERY|LOCATION):"
                   r"\s+(?P<val>.*)$")
LINE = re.compile(r"^LINE (?P<n>\d+): (?P<text>.*)$")
CARET = re.compile(r"^\s*\^\s*$")
FILE = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)(?:, column (?P<col>\d+))?')
SQLSTATE = re.compile(r"\[SQLSTATE (?P<code>[0-9A-Z]{5})\]|SQLSTATE[: ]+(?P<code2>[0-9A-Z]{5})")


def parse(lines: list[str]) -> list[ParsedError]:
    """Every PostgreSQL error in ``lines``."""
    found: list[ParsedError] = []
    index = 0
    while index < len(lines):
        match = PSQL.search(lines[index]) or HEAD.search(lines[index])
        if match is None:
            index += 1
            continue
        start = index
        message = match.group("msg").strip()
        extra: dict[str, object] = {"severity": match.group("sev")}
        frames: list[Frame] = []
        if match.group("file"):
            frames.append(Frame(match.group("file"), int(match.group("line"))))
        index += 1
        while index < len(lines):
            line = lines[index]
            if (m := LINE.match(line.strip())) is not None:
                extra["statement_line"] = int(m.group("n"))
                extra["statement_text"] = m.group("text")
            elif CARET.match(line):
                extra["caret"] = len(line) - len(line.lstrip())
            elif (m := FIELD.match(line)) is not None and not HEAD.search(line):
                extra[m.group("key").lower()] = m.group("val").strip()
            elif (m := FILE.match(line)) is not None:
                col = m.group("col")
                frames = [Frame(m.group("path"), int(m.group("line")), "",
                                int(col) if col else None)]
            elif line.startswith(("    ", "\t")) and frames and not frames[-1].code:
                last = frames[-1]
                frames[-1] = Frame(last.path, last.line, last.function, last.column,
                                   line.strip())
            else:
                break
            index += 1
        state = SQLSTATE.search(message)
        if state:
            extra["sqlstate"] = state.group("code") or state.group("code2")
        found.append(ParsedError("postgres", f"PostgreSQL {match.group('sev')}", message, start,
                                 index, tuple(frames), extra=extra))
    return found
