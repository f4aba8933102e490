"""``log``: no new line of ``path`` matches ``pattern`` (a traceback or an ERROR line).

Only lines appended since the last run count: the file's inode and the offset read
up to are the check's cursor in the store. A new inode (the log was rotated) is read
from its start, and so is a file shorter than the offset (truncated); the first run
only notes the end, so old errors never fire. A partial last line waits for the next
run. A matching line's traceback (the lines that follow it, up to the next blank or
unindented line) goes into the finding.
"""

from __future__ import annotations

import json
import os
import re

from calctl.config.checks import CheckSpec
from calctl.guard.model import CheckContext, Outcome
from calctl.output import plural

READ_LIMIT = 16 << 20  # bytes read per run; a flood is read over several runs
TAIL_BYTES = 256  # bytes before the offset that must still be there next run


async def check(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    return check_sync(spec, ctx)


def check_sync(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    path = ctx.root / str(spec.options["path"])
    shown = str(spec.options["path"])
    pattern = re.compile(str(spec.options["pattern"]))
    previous = _cursor(ctx.cursors.get(spec.name))
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        # not written yet (or rotated away and not recreated): nothing new to read
        return Outcome(True, detail={"path": shown, "missing": True},
                       cursor=json.dumps({"inode": None, "offset": 0}))
    except OSError as exc:
        return Outcome(False, f"cannot read log {shown}: {exc.strerror}", file=shown)
    try:
        info = os.fstat(fd)
        inode = f"{info.st_dev}:{info.st_ino}"
        if previous is None:  # first run: start at the end
            return Outcome(True, detail={"path": shown, "new_lines": 0},
                           cursor=json.dumps({"inode": inode, "offset": info.st_size,
                                              "tail": _tail(fd, info.st_size)}))
        offset = int(str(previous.get("offset") or 0))
        reason = ""
        if previous.get("inode") != inode:
            offset, reason = 0, "rotated"
        elif info.st_size < offset or previous.get("tail") != _tail(fd, offset):
            # shorter, or rewritten since (copytruncate, then more than before written)
            offset, reason = 0, "truncated"
        data = os.pread(fd, min(READ_LIMIT, max(0, info.st_size - offset)), offset)
        end = data.rfind(b"\n") + 1  # a partial last line waits for the next run
        tail = _tail(fd, offset + end)
    finally:
        os.close(fd)
    text = data[:end].decode("utf-8", "replace")
    cursor = json.dumps({"inode": inode, "offset": offset + end, "tail": tail})
    lines = text.splitlines()
    detail = {"path": shown, "new_lines": len(lines), **({"reset": reason} if reason else {})}
    matches = [i for i, line in enumerate(lines) if pattern.search(line)]
    if not matches:
        return Outcome(True, detail=detail, cursor=cursor)
    first = matches[0]
    block = [lines[first]]
    is_traceback = "Traceback (most recent call last)" in lines[first]
    for line in lines[first + 1:first + 200]:
        if line[:1].isspace() and line.strip():
            block.append(line)  # a frame, or a continuation of the message
        elif is_traceback and line.strip():
            block.append(line)  # the exception line ends a traceback
            break
        else:
            break
    traceback = "\n".join(block)
    from calctl.guard.failures import locate

    where = locate(traceback, ctx.root)
    error = where.error if is_traceback and where.error else \
        lines[first].strip()
    verb = "matches" if len(matches) == 1 else "match"
    return Outcome(False, f"{shown}: {plural(len(matches), 'new line')} {verb}: {error[:300]}",
                   file=where.file, line=where.line,
                   traceback=traceback[-8000:],
                   data={"log": shown, "matches": len(matches), "first_match": lines[first][:500],
                         **({"reset": reason} if reason else {})},
                   detail={**detail, "matches": len(matches)}, cursor=cursor)


def _tail(fd: int, offset: int) -> str:
    """A hash of the bytes just before ``offset``: the same file rewritten from the
    start (copytruncate, then more written than before) no longer has them there."""
    import hashlib

    start = max(0, offset - TAIL_BYTES)
    return hashlib.sha256(os.pread(fd, offset - start, start)).hexdigest()[:16]


def _cursor(raw: str | None) -> dict[str, object] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
