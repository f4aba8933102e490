"""pytest failures (the default ``--tb=long`` and ``--tb=short`` reports).

::

    ______________________________ test_total ______________________________

        def test_total():
    >       assert total([1, 2]) == 4
    E       assert 3 == 4

    tests/test_cart.py:5: AssertionError

A failure ends at its ``path:line: ExceptionType`` line; the ``E`` lines above it are
the message, ``path:line: in function`` lines the outer frames, and the ``def`` line
of the last entry's source names the innermost function.
"""

from __future__ import annotations

import re

from calctl.report.model import Frame, ParsedError

SECTION = re.compile(r"^_{3,} (?P<name>.+?) _{3,}$")
ENTRY = re.compile(r"^(?P<path>[^\s:]+\.\w+):(?P<line>\d+):(?: in (?P<func>\S+)| ?)$")
FINAL = re.compile(r"^(?P<path>[^\s:]+\.\w+):(?P<line>\d+): (?P<type>[A-Za-z_][\w.]*)$")
E_LINE = re.compile(r"^E(?:\s+(?P<text>.*))?$")
DEF = re.compile(r"^\s*(?:async\s+)?def (?P<name>\w+)\s*\(")
POINTER = re.compile(r"^>\s")
EXC_TEXT = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failed|"
                      r"Warning))(?::\s?(?P<msg>.*))?$")


def parse(lines: list[str]) -> list[ParsedError]:
    """Every pytest failure in ``lines``."""
    found: list[ParsedError] = []
    section_start = 0
    section_name = ""
    for index, line in enumerate(lines):
        section = SECTION.match(line)
        if section:
            section_start = index
            section_name = section.group("name")
            continue
        final = FINAL.match(line)
        if final is None:
            continue
        error = _failure(lines, section_start, index, final, section_name)
        if error is not None:
            found.append(error)
        section_start = index + 1
    return found


def _failure(lines: list[str], start: int, end: int, final: re.Match[str],
             section: str) -> ParsedError | None:
    """The failure whose last entry ends at line ``end`` (its ``path:line: Type``)."""
    e_lines = [m.group("text") or "" for m in map(E_LINE.match, lines[start:end])
               if m is not None]
    if not e_lines:
        return None
    frames: list[Frame] = []
    entry_start = start + 1
    for index in range(start, end + 1):
        match = ENTRY.match(lines[index]) or FINAL.match(lines[index])
        if match is None:
            continue
        source = lines[entry_start:index]
        function = match.groupdict().get("func") or ""
        if not function:
            names = [m.group("name") for m in map(DEF.match, source) if m is not None]
            function = names[-1] if names else ""
        code = next((line[1:].strip() for line in source if POINTER.match(line)), "")
        frames.append(Frame(match.group("path"), int(match.group("line")), function, None,
                            code))
        entry_start = index + 1
    if frames and not frames[-1].function:
        last = frames[-1]
        name = section.split("[")[0].split(".")[-1].strip()
        frames[-1] = Frame(last.path, last.line, name, None, last.code)
    error_type = final.group("type")
    message = "\n".join(e_lines).strip()
    first = EXC_TEXT.match(e_lines[0].strip())
    if first and first.group("type").split(".")[-1] == error_type.split(".")[-1]:
        message = "\n".join([first.group("msg") or "", *e_lines[1:]]).strip()
    return ParsedError("pytest", error_type, message, start, end + 1, tuple(frames),
                       extra={"test": section} if section else {})
