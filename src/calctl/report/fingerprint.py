"""The grouping key of a failure, in the manner of Sentry's grouping.

``fp1:`` + a SHA-256 of: the exception type, the message with its variable parts
replaced by placeholders (timestamps, UUIDs, paths, quoted strings, hex, numbers),
and for every in-app frame its module (or basename), function and whitespace-collapsed
context line — never a line number or an absolute path, so the same fault groups
together after an edit above it, and in a copy of the project at another path.
The ``fp1`` version changes whenever what goes into the hash does.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = "fp1"

_TIMESTAMP = re.compile(
    r"\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)?)?|"
    r"\b\d\d:\d\d:\d\d(?:[.,]\d+)?\b")
_UUID = re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                   r"[0-9a-fA-F]{12}\b")
_PATH = re.compile(r"(?:~|\.{1,2}|<[a-z-]+>)?(?:/[\w.@+-]+)+/?")
_QUOTED = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}\b")
_NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class AppFrame:
    """The parts of an in-app frame that go into the fingerprint."""

    module: str
    function: str
    context: str


def normalize_message(message: str) -> str:
    """``message`` with its variable parts as placeholders."""
    text = _TIMESTAMP.sub("<ts>", message)
    text = _UUID.sub("<uuid>", text)
    text = _PATH.sub("<path>", text)
    text = _QUOTED.sub("<str>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<num>", text)
    return _SPACE.sub(" ", text).strip()


def module_of(rel_path: str) -> str:
    """``app/models.py`` → ``app.models``: what a frame is known by, whatever the root."""
    stem = rel_path.rsplit(".", 1)[0] if "." in rel_path.rsplit("/", 1)[-1] else rel_path
    return stem.strip("/").replace("/", ".")


def fingerprint(error_type: str, message: str, frames: Iterable[AppFrame]) -> str:
    """``fp1:`` and 32 hex digits."""
    parts = [VERSION, error_type.strip(), normalize_message(message)]
    for frame in frames:
        parts.append("|".join((frame.module, frame.function,
                               _SPACE.sub(" ", frame.context).strip())))
    digest = hashlib.sha256("\n".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"{VERSION}:{digest[:32]}"
