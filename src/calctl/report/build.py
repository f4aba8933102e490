"""From a :class:`Failure` to a :class:`BugReport`: location, snippet, scrubbing,
fingerprint.

The location is the given file and line (``--file/--line``, a finding), else the
innermost frame inside the project root (not an installed package, node_modules or
the standard library). Every text field — message, traceback, snippet, breadcrumbs,
context — has its paths rewritten (:mod:`calctl.report.paths`) and its secrets
redacted (:class:`calctl.scrub.Scrubber`) before the report exists: nothing else of
the failure is kept.
"""

from __future__ import annotations

import os
import platform
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from calctl.config import Settings
from calctl.documents.report import BugReport, Snippet
from calctl.errors import UsageError
from calctl.ids import new_id
from calctl.report.fingerprint import AppFrame, fingerprint, module_of
from calctl.report.model import Failure, Frame
from calctl.report.paths import PathScrubber
from calctl.report.snippet import LINE_CHARS, line_at, read_around
from calctl.scrub import Scrubber

MAX_MESSAGE = 4000
MAX_TRACEBACK_LINES = 400
MAX_CRUMB = 1000
_LEVEL = re.compile(r"\b(DEBUG|INFO|NOTICE|WARNING|WARN|ERROR|CRITICAL|FATAL|LOG)\b")
_FINGERPRINT = re.compile(r"fp\d+:[0-9a-f]{16,64}")


@dataclass(frozen=True)
class Location:
    rel: str
    line: int | None
    column: int | None = None
    function: str = ""


class _Cleaner:
    """Paths, then secrets, of every string in a value (dicts and lists walked)."""

    def __init__(self, paths: PathScrubber, secrets: Scrubber) -> None:
        self.paths = paths
        self.secrets = secrets

    def text(self, value: str) -> str:
        return self.secrets.scrub(self.paths.scrub(value))

    def lines(self, lines: list[str]) -> list[str]:
        """Lines scrubbed together (a key block spans lines), one result per line."""
        cleaned = self.text("\n".join(lines)).split("\n")
        return cleaned if len(cleaned) == len(lines) else [self.text(line) for line in lines]

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def _cleaner(settings: Settings, environ: Mapping[str, str] | None,
             home: Path | None) -> _Cleaner:
    report = settings.report
    secrets = Scrubber(scrub_keys=report.scrub_keys, safe_keys=report.safe_keys,
                       environ=dict(os.environ if environ is None else environ))
    return _Cleaner(PathScrubber(settings.root, home), secrets)


def build_report(failure: Failure, settings: Settings, *,
                 environ: Mapping[str, str] | None = None,
                 home: Path | None = None) -> BugReport:
    """The scrubbed bug report of ``failure`` in the project of ``settings``.

    ``environ`` (default: the process environment) is where the values of
    secret-looking variables are taken from, to be redacted wherever they appear.
    """
    clean = _cleaner(settings, environ, home)
    root = settings.root.resolve()
    location = _location(failure, clean.paths, root)
    snippet = None
    if location is not None and location.line is not None and _confined(root, location.rel):
        found = read_around(root / location.rel, location.line, settings.report.context_lines)
        if found is not None:
            snippet = Snippet(path=location.rel, first_line=found.first_line,
                              lines=[line[:LINE_CHARS] for line in clean.lines(found.lines)],
                              error_line=location.line)
    message = clean.text(failure.message)[:MAX_MESSAGE]
    frames = _app_frames(failure.frames, clean, root)
    if not frames and location is not None:
        context_line = line_at(root / location.rel, location.line) \
            if location.line and _confined(root, location.rel) else ""
        frames = [AppFrame(module_of(location.rel), location.function,
                           clean.text(context_line)[:LINE_CHARS])]
    traceback_lines = failure.traceback.splitlines()[-MAX_TRACEBACK_LINES:]
    context = {"source": failure.source, **failure.context, "os": platform.system()}
    report = BugReport(
        fingerprint=fingerprint(failure.error_type, message, frames),
        error=message,
        error_type=clean.text(failure.error_type),
        traceback=clean.text("\n".join(traceback_lines)),
        file=location.rel if location else None,
        line=location.line if location else None,
        snippet=snippet,
        breadcrumbs=[_crumb(line[:MAX_CRUMB]) for line in clean.lines(list(failure.breadcrumbs))],
        context=clean.value(context),
        service=clean.text(settings.report.service),
        report_id=new_id(),
    )
    return replace(report, redactions=sum(clean.secrets.counts.values()),
                   redactions_by_type=dict(sorted(clean.secrets.counts.items())))


def rescrub(report: BugReport, settings: Settings, *,
            environ: Mapping[str, str] | None = None, home: Path | None = None) -> BugReport:
    """A ``bug-report`` given as input, scrubbed again (it is not trusted to be clean)
    and checked: its location must be a path inside the project."""
    clean = _cleaner(settings, environ, home)
    for where, path in (("file", report.file),
                        ("snippet.path", report.snippet.path if report.snippet else None)):
        if path is not None and clean.paths.relative(path) is None:
            raise UsageError(f"bug-report field {where}: {path!r} is not a path inside the "
                             "project", hint="A report names files relative to the project "
                             "root.", code="report-path")
    if not _FINGERPRINT.fullmatch(report.fingerprint):
        raise UsageError(f"bug-report field fingerprint: {report.fingerprint!r} is not a "
                         "calctl fingerprint (fp1:…)", code="report-fingerprint")
    snippet = report.snippet
    if snippet is not None:
        snippet = replace(snippet, lines=[line[:LINE_CHARS]
                                          for line in clean.lines(snippet.lines[:50])])
    cleaned = replace(
        report, error=clean.text(report.error)[:MAX_MESSAGE],
        error_type=clean.text(report.error_type), traceback=clean.text(report.traceback),
        snippet=snippet, breadcrumbs=clean.value(report.breadcrumbs),
        context=clean.value(report.context), service=clean.text(report.service),
        report_id=new_id())  # every call is a row of its own
    counts = dict(report.redactions_by_type)
    for kind, count in clean.secrets.counts.items():
        counts[kind] = counts.get(kind, 0) + count
    return replace(cleaned, redactions=report.redactions + sum(clean.secrets.counts.values()),
                   redactions_by_type=dict(sorted(counts.items())))


def _crumb(line: str) -> dict[str, Any]:
    level = _LEVEL.search(line[:80])
    crumb: dict[str, Any] = {"message": line}
    if level:
        crumb["level"] = level.group(1).lower()
    return crumb


def _location(failure: Failure, paths: PathScrubber, root: Path) -> Location | None:
    if failure.file:
        rel = paths.relative(failure.file)
        if rel is None or not _confined(root, rel):
            raise UsageError(f"{failure.file} is not a path inside the project {root.name}/",
                             hint="Name a file of the project (relative to its root).",
                             code="report-path")
        return Location(rel, failure.line, failure.column)
    for frame in reversed(failure.frames):
        rel = _project_path(frame.path, paths, root)
        if rel is not None and (root / rel).is_file() and _confined(root, rel):
            return Location(rel, frame.line, frame.column, frame.function)
    return None


def _confined(root: Path, rel: str) -> bool:
    """Does ``rel`` stay inside the project once links are followed? (A repository may
    link ``app.py`` to ``~/.ssh/id_rsa``: its lines must not become a snippet.)"""
    try:
        (root / rel).resolve().relative_to(root)
    except (OSError, ValueError):
        return False
    return True


def _project_path(path: str, paths: PathScrubber, root: Path) -> str | None:
    """``path`` relative to the root; an absolute path from another machine
    (``/srv/app/shop/cart.py``) counts when its tail names a file of the project."""
    rel = paths.relative(path)
    if rel is not None or not path.startswith("/"):
        return rel
    if paths.scrub(path) != path:
        return None  # home, an installed package, the standard library
    parts = Path(path).parts[1:]
    for start in range(len(parts) - 1):
        tail = "/".join(parts[start:])
        if (len(parts) - start >= 2 or parts[-1] != "__init__.py") and (root / tail).is_file():
            return paths.relative(tail)
    return None


def _app_frames(frames: tuple[Frame, ...], clean: _Cleaner, root: Path) -> list[AppFrame]:
    found = []
    for frame in frames:
        rel = _project_path(frame.path, clean.paths, root)
        if rel is None:
            continue
        code = frame.code
        if not code and frame.line and _confined(root, rel):
            code = line_at(root / rel, frame.line)
        found.append(AppFrame(module_of(rel), frame.function, clean.text(code)))
    return found
