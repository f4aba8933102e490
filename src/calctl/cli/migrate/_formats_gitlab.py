"""Problems as a GitLab Code Quality report (``artifacts: reports: codequality``).

GitLab reads a JSON array of issues, each with ``description``, ``check_name``,
``fingerprint``, ``severity`` (info, minor, major, critical or blocker) and
``location.path`` + ``location.lines.begin``; it compares the fingerprints of the merge
request's report with the target branch's to show what is new and what is fixed. So a
fingerprint leaves the line out (a problem stays the same problem when lines above it
shift): it hashes the rule, the file and the message (its line numbers left out), and
which occurrence of that triple it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from calctl.cli._problem_formats import message_and_hint, shown_path
from calctl.documents import Problem

# "(line 6)" in a message: left out of the fingerprint like the location's line
_LINES = re.compile(r"\blines? \d+(?:\s*[-–,]\s*\d+)*")
# a problem that makes the migration fail or run in the wrong order is critical; unsafe
# DDL (locks, rewrites, lost data) is major
SEVERITY = {"error": "critical", "warning": "major", "info": "info"}


def gitlab_issues(directory: Path, problems: Sequence[Problem]) -> list[dict[str, Any]]:
    """The Code Quality issues of ``problems``, paths relative to the working directory."""
    from hashlib import sha256

    seen: dict[tuple[str, str, str], int] = {}
    issues = []
    for p in problems:
        path = shown_path(directory, p.path)
        triple = (p.code, path, _LINES.sub("line", p.message))
        nth = seen.get(triple, 0)
        seen[triple] = nth + 1
        fingerprint = sha256("\0".join((*triple, str(nth))).encode()).hexdigest()[:32]
        issues.append({
            "type": "issue",
            "description": f"{p.code} {p.name}: {message_and_hint(p)}",
            "check_name": p.code,
            "fingerprint": fingerprint,
            "severity": SEVERITY[p.severity],
            "categories": ["Bug Risk"],
            "location": {"path": path, "lines": {"begin": max(p.line or 1, 1)}},
        })
    return issues
