"""The write-ahead journal of a patch in flight: ``.calctl/journal/<id>.json``.

Each phase is written (atomically, fsynced) *before* the work it announces:

    prepared → writing → applied → verifying → verified
                                           └→ rolling_back → rolled_back

so after a crash the journal says how far the patch got. A patch that reaches
a final phase has its record moved to ``snapshots/<id>/journal.json`` (its
history, for ``patch show``), which keeps ``journal/`` down to the patches
actually in flight: recovery never has to look at anything else.

Both files are sealed with the user's key (:mod:`calctl.patch.sealed`). One that
is not — a repository can ship ``.calctl/journal/X.json`` — is :class:`Untrusted`:
recovery reports it and leaves it where it is, and nothing ever acts on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calctl.errors import StateError
from calctl.ids import is_id, now_iso
from calctl.patch import sealed
from calctl.patch.atomic import TEMP_SUFFIX, remove_durable
from calctl.state import StateDir

PHASES = ("prepared", "writing", "applied", "verifying", "verified", "rolling_back",
          "rolled_back")
FINAL_NAME = "journal.json"
PURPOSE = "journal"


@dataclass(frozen=True)
class Untrusted:
    """A journal calctl will not act on, and why."""

    path: Path
    reason: str


def in_flight_path(state: StateDir, patch_id: str) -> Path:
    return state.journal / f"{patch_id}.json"


def final_path(state: StateDir, patch_id: str) -> Path:
    return state.snapshots / patch_id / FINAL_NAME


class Journal:
    """One patch's record; every :meth:`advance` is durable before it returns."""

    def __init__(self, state: StateDir, record: dict[str, Any]) -> None:
        self.state = state
        self.record = record

    @property
    def patch_id(self) -> str:
        return str(self.record["patch_id"])

    @property
    def phase(self) -> str:
        return str(self.record["phase"])

    @classmethod
    def begin(cls, state: StateDir, patch_id: str, **fields: Any) -> Journal:
        sealed.require_key()  # refuse before anything is written, not half-way
        record: dict[str, Any] = {"version": 1, "patch_id": patch_id, "phase": "",
                                  "phases": [], **fields}
        journal = cls(state, record)
        journal.advance("prepared")
        return journal

    @classmethod
    def reopen(cls, state: StateDir, record: dict[str, Any]) -> Journal:
        """Continue a finished record (a rollback) as a patch in flight again."""
        return cls(state, dict(record))

    def advance(self, phase: str, detail: str = "", **fields: Any) -> None:
        assert phase in PHASES, phase
        self.record.update(fields)
        self.record["phase"] = phase
        self.record["phases"].append({"phase": phase, "ts": now_iso(), "detail": detail})
        self._write(in_flight_path(self.state, self.patch_id))

    def update(self, **fields: Any) -> None:
        self.record.update(fields)
        self._write(in_flight_path(self.state, self.patch_id))

    def finish(self) -> None:
        """Move the record out of ``journal/``: the patch is no longer in flight."""
        target = final_path(self.state, self.patch_id)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable(target, exc) from exc
        self._write(target)
        try:
            remove_durable(in_flight_path(self.state, self.patch_id))
        except OSError as exc:
            raise _unwritable(in_flight_path(self.state, self.patch_id), exc) from exc

    def _write(self, path: Path) -> None:
        data = json.dumps(self.record, indent=2, ensure_ascii=False).encode()
        try:
            sealed.write(path, data, PURPOSE, tag="journal")
        except OSError as exc:
            raise _unwritable(path, exc) from exc


def _unwritable(path: Path, exc: OSError) -> StateError:
    return StateError(f"cannot write patch journal {path}: {exc.strerror or exc}",
                      hint="Free some space or fix the state directory, then run "
                      "`calctl patch recover`.", code="state-unwritable")


def _read(path: Path, patch_id: str | None = None) -> dict[str, Any]:
    """The record at ``path``; sealed.Unsealed when it is not ours, StateError when ours
    but unreadable (a sealed record that is malformed is a bug, not an attack)."""
    try:
        data = json.loads(sealed.read(path, PURPOSE))
    except (sealed.Unsealed, FileNotFoundError):
        raise
    except (OSError, ValueError) as exc:
        raise StateError(f"patch journal {path} is unreadable or corrupt: {exc}",
                         hint="Inspect it; move it away to let `calctl patch recover` go on.",
                         code="journal-corrupt") from exc
    if not isinstance(data, dict) or data.get("phase") not in PHASES or \
            not isinstance(data.get("phases"), list) or \
            not isinstance(data.get("files", []), list) or \
            not all(isinstance(f, str) for f in data.get("files", [])):
        raise StateError(f"patch journal {path} is not a calctl journal", code="journal-corrupt")
    if not is_id(data.get("patch_id")) or (patch_id is not None and data["patch_id"] != patch_id):
        raise StateError(f"patch journal {path} names patch {data.get('patch_id')!r}, not the "
                         "id its file name gives", code="journal-corrupt")
    return data


def scan(state: StateDir) -> tuple[list[dict[str, Any]], list[Untrusted]]:
    """Records of every patch a crash (or a running process) left in ``journal/``, and the
    journals there that are not sealed with this user's key (never to be acted on)."""
    if not state.journal.is_dir():
        return [], []
    records: list[dict[str, Any]] = []
    untrusted: list[Untrusted] = []
    for path in sorted(state.journal.glob("*.json")):
        if path.name.startswith("."):
            continue
        stem = path.name.removesuffix(".json")
        try:
            if not is_id(stem):
                raise sealed.Unsealed("its name is not a calctl patch id")
            records.append(_read(path, stem))
        except sealed.Unsealed as exc:
            untrusted.append(Untrusted(path, str(exc)))
        except FileNotFoundError:  # finished by another process since the listing
            continue
    return records, untrusted


def in_flight(state: StateDir) -> list[dict[str, Any]]:
    """Records of every patch in flight that this user's calctl wrote (see :func:`scan`)."""
    return scan(state)[0]


def read(state: StateDir, patch_id: str) -> dict[str, Any] | None:
    """The record of one patch, in flight or finished; StateError when it is not sealed
    with this user's key."""
    if not is_id(patch_id):
        return None
    for path in (in_flight_path(state, patch_id), final_path(state, patch_id)):
        try:
            return _read(path, patch_id)
        except FileNotFoundError:
            continue
        except sealed.Unsealed as exc:
            raise StateError(f"patch journal {path} is not trusted: {exc}; calctl does not act "
                             "on it", hint="Restore the files from git if needed, and remove "
                             f"{path.parent if path.name == FINAL_NAME else path}.",
                             code="journal-untrusted") from None
    return None


def clean_temp(state: StateDir, patch_ids: list[str]) -> int:
    """Remove temp files a crash left in the state directory (journal and snapshot writes)."""
    removed = 0
    directories = [state.journal, *(state.snapshots / pid for pid in patch_ids)]
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in directory.glob(f".*{TEMP_SUFFIX}"):
            with contextlib.suppress(OSError):
                # a file or a link is unlinked (never followed); anything else stays
                if stat.S_ISREG(os.lstat(path).st_mode) or path.is_symlink():
                    path.unlink()
                    removed += 1
    return removed
