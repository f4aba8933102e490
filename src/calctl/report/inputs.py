"""What ``calctl report`` was given, read into a :class:`~calctl.report.model.Failure`.

- a document on stdin (or in ``--log``'s file): a ``finding``, a ``guard-run`` (its
  first unhealthy check's finding; a healthy run has nothing to report) or a
  ``bug-report`` (re-scrubbed, then diagnosed as it is);
- log text (stdin that is not one JSON document, or a ``--log`` file): its last error;
- an error text, with ``--file``/``--line`` naming the failing line.

Bad input — a document of another kind or with invalid fields, a log without an
error — is a :class:`~calctl.errors.UsageError` (exit 2) saying what was expected.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from typing import Any, BinaryIO

from calctl.documents.report import BugReport, Finding
from calctl.errors import DocumentError, UsageError
from calctl.report.logread import LogError, last_log_error, text_error
from calctl.report.model import Failure

# a JSON document is read whole up to this size; a larger input is a log
MAX_DOCUMENT = 16 << 20
_TYPED = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit|Interrupt|"
                    r"Fault|Failure))(?::\s?(?P<msg>.*))?$", re.S)
EXPECTED = ("a finding, guard-run or bug-report document, or log text holding a Python "
            "traceback, a Node.js stack, a PostgreSQL error or a pytest failure")


@dataclass(frozen=True)
class Given:
    """What the input holds: a failure, a finished report, or nothing to report."""

    failure: Failure | None = None
    report: BugReport | None = None
    healthy: bool = False


def from_stream(stream: BinaryIO, *, name: str, breadcrumbs: int) -> Given:
    """A document or a log from ``stream`` (stdin, or a ``--log`` file)."""
    head = stream.read(1 << 16)
    if head.lstrip().startswith(b"{") and not _json_lines(head):
        data = head + stream.read(MAX_DOCUMENT + 1 - len(head))
        if len(data) <= MAX_DOCUMENT:
            document = _json(data)
            if document is not None:
                return from_document(document, name=name)
        head = data
    found = last_log_error(io.BufferedReader(_Chain(head, stream)), breadcrumbs=breadcrumbs)
    if found is None:
        raise UsageError(f"{name}: no error found in the log",
                         hint=f"Expected {EXPECTED}.", code="report-no-error")
    return Given(failure=_from_log(found, "log"))


class _Chain(io.RawIOBase):
    """``first`` bytes, then the rest of ``rest``: a log that began like a document."""

    def __init__(self, first: bytes, rest: BinaryIO) -> None:
        self._first = memoryview(first)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._first:
            size = min(len(buffer), len(self._first))
            buffer[:size] = self._first[:size]
            self._first = self._first[size:]
            return size
        chunk = self._rest.read(len(buffer))
        buffer[:len(chunk)] = chunk
        return len(chunk)


def _json_lines(head: bytes) -> bool:
    """Does ``head`` start a JSON-lines log (a whole object on its first line, and more
    after it)? Such a log is read as a stream, never whole."""
    text = head.lstrip()
    end = text.find(b"\n")
    return end > 0 and bool(text[end:].strip()) and isinstance(_json(text[:end]), dict)


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return None  # not one JSON document: log text (JSON lines, say)


def from_document(data: Any, *, name: str) -> Given:
    """A ``finding``, ``guard-run`` or ``bug-report`` document (parsed JSON)."""
    if not isinstance(data, dict):
        raise DocumentError(f"{name}: expected a JSON object with a \"kind\"",
                            hint=f"Expected {EXPECTED}.")
    kind = data.get("kind")
    try:
        if kind == "finding":
            return Given(failure=from_finding(Finding.from_dict(data)))
        if kind == "bug-report":
            return Given(report=BugReport.from_dict(data))
    except DocumentError as exc:
        raise DocumentError(f"{name}: {exc.message}", hint=exc.hint) from None
    if kind == "guard-run":
        finding = _first_unhealthy(data, name)
        return Given(healthy=True) if finding is None else Given(failure=from_finding(finding))
    raise DocumentError(f"{name}: a {kind!r} document is not a failure to report",
                        hint=f"Expected {EXPECTED}.", code="report-kind")


def _first_unhealthy(data: dict[str, Any], name: str) -> Finding | None:
    """The finding of a guard run's first unhealthy check (``checks`` or ``results``,
    each with ``ok`` and ``finding``; or a ``findings`` list)."""
    for key in ("checks", "results"):
        results = data.get(key)
        if results is None:
            continue
        if not isinstance(results, list):
            raise DocumentError(f"{name}: field {key}: expected a list")
        for index, result in enumerate(results):
            if not isinstance(result, dict):
                raise DocumentError(f"{name}: field {key}[{index}]: expected an object")
            if result.get("ok") is False or result.get("status") in ("unhealthy", "failed"):
                raw = result.get("finding")
                if raw is None:
                    continue
                return _finding(raw, f"{name}: field {key}[{index}].finding")
    findings = data.get("findings") or []
    if not isinstance(findings, list):
        raise DocumentError(f"{name}: field findings: expected a list")
    return _finding(findings[0], f"{name}: field findings[0]") if findings else None


def _finding(raw: Any, where: str) -> Finding:
    if isinstance(raw, dict) and "kind" not in raw:
        raw = {"kind": "finding", **raw}
    try:
        finding: Finding = Finding.from_dict(raw)
    except DocumentError as exc:
        raise DocumentError(f"{where}: {exc.message}") from None
    return finding


def from_finding(finding: Finding) -> Failure:
    """A finding: its error, its location, and the error block of its traceback."""
    context: dict[str, Any] = {"check": finding.check, "finding_source": finding.source}
    for key in ("hint", "sqlstate"):
        if getattr(finding, key):
            context[key] = getattr(finding, key)
    if finding.data:
        context["data"] = finding.data
    parsed = text_error(finding.traceback, breadcrumbs=0) if finding.traceback else None
    if parsed is None:
        parsed = text_error(finding.error, breadcrumbs=0)
    error_type, message = _typed(finding.error)
    frames: tuple[Any, ...] = ()
    if parsed is not None:
        error_type = parsed.error.error_type
        message = finding.error if finding.source == "migration" else parsed.error.message
        frames = parsed.error.frames
        context.update(parsed.error.extra)
    elif not error_type:
        error_type = {"migration": "PostgreSQL ERROR", "postgres": "PostgreSQL ERROR"}.get(
            finding.source, f"{finding.source} failure")
    return Failure("finding", error_type, message, frames, finding.traceback, (),
                   finding.file, finding.line, finding.column, context)


def from_text(text: str, *, file: str | None, line: int | None, breadcrumbs: int) -> Failure:
    """An error text (perhaps a pasted traceback), with the failing line if known."""
    if not text.strip():
        raise UsageError("the error text is empty", hint="Pass the error message, or - to "
                         "read a log or a document from stdin.", code="report-no-error")
    parsed = text_error(text, breadcrumbs=breadcrumbs)
    if parsed is not None:
        failure = _from_log(parsed, "text")
        return Failure(failure.source, failure.error_type, failure.message, failure.frames,
                       failure.traceback, failure.breadcrumbs, file, line, None,
                       failure.context, failure.chain)
    error_type, message = _typed(text.strip())
    return Failure("text", error_type, message, (), "", (), file, line)


def _typed(text: str) -> tuple[str, str]:
    match = _TYPED.match(text.strip())
    if match is None:
        return "", text.strip()
    return match.group("type"), (match.group("msg") or "").strip()


def _from_log(found: LogError, source: str) -> Failure:
    error = found.error
    context: dict[str, Any] = {"format": error.kind, **error.extra}
    if error.chain:
        context["chain"] = list(error.chain)
    return Failure(source, error.error_type, error.message, error.frames,
                   "\n".join(found.block), tuple(found.breadcrumbs), None, None, None,
                   context, error.chain)
