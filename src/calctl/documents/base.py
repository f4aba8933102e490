"""What every document shares: the base classes, field validation, and
:func:`load_document`, which reads one from text (a file or stdin) and dispatches
on its kind."""

from __future__ import annotations

import dataclasses
import importlib
import json
import re
import types
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

from calctl.errors import DocumentError

VERSION = 1
D = TypeVar("D", bound="Document")


@dataclass(frozen=True)
class Record:
    """A nested part of a document: validated the same way, without kind/version."""

    def validate_fields(self, where: str) -> None:
        """Rules across fields or beyond a field's type (ranges); raise DocumentError.

        ``where`` is the field path of this record (``edits[2]``), empty at the top."""

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _dump(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[Any], data: Any, where: str = "") -> Any:
        return _build(cls, data, where)


@dataclass(frozen=True)
class Document(Record):
    """A top-level document with ``kind`` and ``version``."""

    KIND: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, "version": VERSION, **super().to_dict()}

    @classmethod
    def from_dict(cls: type[Any], data: Any, where: str = "") -> Any:
        if not isinstance(data, dict):
            raise DocumentError(f"a {cls.KIND} document must be a JSON object")
        kind = data.get("kind")
        if kind != cls.KIND:
            raise DocumentError(f"field kind: expected {cls.KIND!r}, got {kind!r}")
        version = data.get("version", VERSION)
        if version != VERSION or isinstance(version, bool):  # True == 1, but is no version
            raise DocumentError(f"field version: unsupported version {version!r} (expected 1)")
        body = {k: v for k, v in data.items() if k not in ("kind", "version")}
        return _build(cls, body, where)


# kind → (module, class): a command imports only the modules of the documents it uses
KINDS: dict[str, tuple[str, str]] = {
    "migration-plan": ("migrate", "MigrationPlan"),
    "migration-lint": ("migrate", "LintReport"),
    "migration-run": ("migrate", "MigrationRun"),
    "migration-status": ("migrate", "MigrationStatus"),
    "migration-lint-fix": ("lintfix", "LintFix"),
    "finding": ("finding", "Finding"),
    "bug-report": ("report", "BugReport"),
    "diagnosis": ("report", "Diagnosis"),
    "patch": ("patch", "Patch"),
    "patch-result": ("patch", "PatchResult"),
    "patch-record": ("patch", "PatchRecord"),
    "patch-list": ("patch", "PatchList"),
    "patch-recovery": ("patch", "PatchRecovery"),
    "event": ("event", "Event"),
    "error": ("event", "ErrorDocument"),
    "guard-run": ("guard", "GuardRun"),
    "heal-stats": ("guard", "HealStats"),
}


def kind_class(kind: str) -> type[Document] | None:
    """The document class of ``kind``, or None for an unknown kind."""
    home = KINDS.get(kind)
    if home is None:
        return None
    module = importlib.import_module(f"calctl.documents.{home[0]}")
    cls: type[Document] = getattr(module, home[1])
    return cls


def load_document(text: str | bytes, *, source: str = "input",
                  accept: tuple[type[Document], ...] = ()) -> Document:
    """Parse JSON text into the document its ``kind`` names.

    ``accept`` limits the kinds a command takes; anything else is a DocumentError
    naming ``source`` (a path or ``<stdin>``).
    """
    try:
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{source}: input is not valid UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise DocumentError(
            f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}",
            hint="Pass a document printed by another calctl command with --json.",
        ) from exc
    except ValueError as exc:  # an integer of more than 4300 digits
        raise DocumentError(f"{source}: not a usable JSON document: {exc}".split(";")[0]) \
            from exc
    except RecursionError:  # arrays or objects nested thousands deep
        raise DocumentError(f"{source}: JSON nested too deeply to read",
                            hint="calctl's documents nest a few levels.") from None
    if not isinstance(data, dict):
        raise DocumentError(f"{source}: a document must be a JSON object with a \"kind\"")
    kind = data.get("kind")
    cls = kind_class(kind) if isinstance(kind, str) else None
    if cls is None:
        raise DocumentError(f"{source}: field kind: unknown document kind {kind!r}",
                            hint="Known kinds: " + ", ".join(sorted(KINDS)))
    if accept and cls not in accept:
        raise DocumentError(
            f"{source}: a {kind} document is not accepted here",
            hint="Expected " + " or ".join(c.KIND for c in accept) + ".",
        )
    try:
        return cls.from_dict(data)  # type: ignore[no-any-return]
    except DocumentError as exc:
        raise DocumentError(f"{source}: {exc.message}", hint=exc.hint) from None


# ---------------------------------------------------------------- validation


def _dump(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


def _build(cls: type[Any], data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise DocumentError(f"field {where or cls.__name__}: expected an object")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    names = {f.name: f for f in dataclasses.fields(cls)}
    for name, f in names.items():
        path = f"{where}.{name}" if where else name
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise DocumentError(f"field {path}: missing")
            continue
        kwargs[name] = _check(data[name], hints[name], path)
    built = cls(**kwargs)
    built.validate_fields(where)
    return built


def _describe(kind: Any) -> str:
    origin = get_origin(kind)
    if origin is list:
        return "a list"
    if origin is dict:
        return "an object"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(kind))
    if isinstance(kind, type) and issubclass(kind, Record):
        return "an object"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        kind, str(kind)
    )


def _check(value: Any, kind: Any, path: str) -> Any:
    origin = get_origin(kind)
    if kind is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(kind)
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _check(value, inner[0], path)
    if origin is Literal:
        if value not in get_args(kind):
            raise DocumentError(f"field {path}: expected {_describe(kind)}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise DocumentError(f"field {path}: expected a list, got {type(value).__name__}")
        (item,) = get_args(kind)
        return [_check(v, item, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise DocumentError(f"field {path}: expected an object, got {type(value).__name__}")
        _, vtype = get_args(kind)
        for k in value:
            check_text(str(k), f"{path} (a key)")
        return {str(k): _check(v, vtype, f"{path}.{k}") for k, v in value.items()}
    if isinstance(kind, type) and issubclass(kind, Record):
        return _build(kind, value, path)
    ok = (
        (kind is bool and isinstance(value, bool))
        or (kind is int and isinstance(value, int) and not isinstance(value, bool))
        or (kind is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (kind is str and isinstance(value, str))
    )
    if not ok:
        raise DocumentError(f"field {path}: expected {_describe(kind)}, got {value!r:.60}")
    if kind is str:
        check_text(value, path)
    elif kind is int and not INT64_MIN <= value <= INT64_MAX:
        raise DocumentError(f"field {path}: {_digits(value)} is out of range "
                            "(integers are 64-bit)")
    return float(value) if kind is float else value


# JSON has no integer limit, but every integer calctl keeps ends in a 64-bit column
# (SQLite INTEGER, PostgreSQL BIGINT) or a range check of its own.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_SURROGATE = re.compile("[\ud800-\udfff]")


def _digits(value: int) -> str:
    text = str(value)
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


def check_text(value: str, path: str) -> None:
    """Refuse a lone surrogate: JSON's ``\\ud800`` escapes decode to one, and it cannot be
    written as UTF-8 to a file, the store or the terminal."""
    found = _SURROGATE.search(value)
    if found:
        raise DocumentError(
            f"field {path}: holds a lone surrogate (\\u{ord(found.group()):04x}) at character "
            f"{found.start()}; text must be valid Unicode",
            hint="Escape real characters as UTF-8 text or a surrogate pair.")
