"""Finding a block of text in a file: exactly, then up to uniform indentation.

Texts here are already LF-normalised. A block is compared line by line in the
indentation-tolerant pass, so the replacement can be re-indented by the same
amount; near misses are reported with difflib so the user sees where the
patch was probably meant to go.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

CLOSEST_RATIO = 0.6
_MAX_WINDOWS = 50_000


def find_all(text: str, needle: str) -> list[int]:
    """Every start offset of ``needle`` in ``text`` (overlapping occurrences count)."""
    positions: list[int] = []
    start = 0
    while True:
        index = text.find(needle, start)
        if index < 0:
            return positions
        positions.append(index)
        start = index + 1


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def split_block(block: str) -> list[str]:
    """A block as lines; a final newline does not make an extra empty line."""
    if block == "":
        return []
    if block.endswith("\n"):
        block = block[:-1]
    return block.split("\n")


def common_indent(lines: list[str]) -> str:
    indents = [line[: len(line) - len(line.lstrip())] for line in lines if line.strip()]
    if not indents:
        return ""
    prefix = indents[0]
    for indent in indents[1:]:
        while not indent.startswith(prefix):
            prefix = prefix[:-1]
    return prefix


@dataclass(frozen=True)
class IndentMatch:
    start: int  # 0-based index of the first matching file line
    indent: str  # indentation of the file at the match
    common: str  # indentation shared by the block's own lines


def indent_matches(file_lines: list[str], block_lines: list[str]) -> list[IndentMatch]:
    """Where ``block_lines`` occur in ``file_lines`` with only a uniform indentation change."""
    common = common_indent(block_lines)
    stripped = [line[len(common):] if line.strip() else "" for line in block_lines]
    firsts = [j for j, line in enumerate(stripped) if line]
    if not firsts:
        return []
    first = firsts[0]
    n = len(stripped)
    found: list[IndentMatch] = []
    for i in range(len(file_lines) - n + 1):
        line = file_lines[i + first]
        if not line.endswith(stripped[first]):
            continue
        indent = line[: len(line) - len(stripped[first])]
        if indent.strip():
            continue
        if all(
            (file_lines[i + j] == indent + s) if s else not file_lines[i + j].strip()
            for j, s in enumerate(stripped)
        ):
            found.append(IndentMatch(i, indent, common))
    return found


def reindent(lines: list[str], common: str, indent: str) -> list[str]:
    """Move ``lines`` from indentation ``common`` to ``indent``."""
    out = []
    for line in lines:
        if not line.strip():
            out.append(line)
        elif line.startswith(common):
            out.append(indent + line[len(common):])
        else:
            out.append(indent + line.lstrip())
    return out


def closest(file_lines: list[str], block_lines: list[str], limit: int = 3) -> str:
    """The file's lines most like the block (ratio ≥ 0.6), for a refusal message."""
    n = max(1, len(block_lines))
    target = "\n".join(block_lines)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(target)
    scored: list[tuple[float, int]] = []
    for i in range(min(max(1, len(file_lines) - n + 1), _MAX_WINDOWS)):
        matcher.set_seq1("\n".join(file_lines[i:i + n]))
        if matcher.real_quick_ratio() < CLOSEST_RATIO or matcher.quick_ratio() < CLOSEST_RATIO:
            continue
        ratio = matcher.ratio()
        if ratio >= CLOSEST_RATIO:
            scored.append((ratio, i))
    if not scored:
        return "no similar lines in the file"
    scored.sort(key=lambda item: (-item[0], item[1]))
    parts = []
    for ratio, i in scored[:limit]:
        shown = file_lines[i:i + n]
        first = shown[0].strip() if shown else ""
        span = f"line {i + 1}" if n == 1 else f"lines {i + 1}-{i + len(shown)}"
        parts.append(f"{span} ({ratio:.0%} similar): {first[:80]!r}")
    return "closest: " + "; ".join(parts)
