"""Snapshots: the original bytes, mode and sha256 of every path a patch touches.

``.calctl/snapshots/<id>/`` holds ``files/<n>`` (the original bytes of entry n)
and ``manifest.json``: for each path whether it existed, its sha256 and mode
before and after the patch, plus the directories the patch had to create.
The manifest is written (atomically) before any project file is touched, so a
rollback or a crash recovery always has what it needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from calctl.errors import StateError
from calctl.ids import now_iso
from calctl.patch.atomic import fsync_dir, make_dirs, remove_durable, write_atomic
from calctl.patch.validate import FileChange, FileState
from calctl.state import StateDir

MANIFEST = "manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class SnapshotEntry:
    path: str
    existed: bool
    sha256: str | None
    mode: int | None
    blob: str | None
    after_exists: bool
    after_sha256: str | None
    after_mode: int | None
    after_blob: str | None = None


@dataclass(frozen=True)
class Manifest:
    patch_id: str
    created_at: str
    entries: list[SnapshotEntry]
    created_dirs: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[str]:
        return [e.path for e in self.entries]


def snapshot_dir(state: StateDir, patch_id: str) -> Path:
    return state.snapshots / patch_id


def planned_dirs(root: Path, changes: list[FileChange]) -> list[str]:
    """Directories that do not exist yet and must be made for created files (outermost first)."""
    missing: list[str] = []
    for change in changes:
        if change.before.exists or not change.after.exists:
            continue
        parent = (root / change.path).parent
        chain = []
        while parent != root and not parent.exists():
            chain.append(parent.relative_to(root).as_posix())
            parent = parent.parent
        for rel in reversed(chain):
            if rel not in missing:
                missing.append(rel)
    return missing


def take(state: StateDir, patch_id: str, root: Path, changes: list[FileChange]) -> Manifest:
    """Save the originals of ``changes`` and write the manifest (fsynced)."""
    directory = snapshot_dir(state, patch_id)
    files = directory / "files"
    try:
        files.mkdir(parents=True, exist_ok=True)
        entries = []
        for n, change in enumerate(changes):
            before, after = change.before, change.after
            blob = after_blob = None
            if before.exists:
                blob = str(n)
                _write_blob(files / blob, before.data)
            if after.exists:
                after_blob = f"{n}.after"
                _write_blob(files / after_blob, after.data)
            entries.append(SnapshotEntry(
                path=change.path,
                existed=before.exists,
                sha256=sha256(before.data) if before.exists else None,
                mode=before.mode if before.exists else None,
                blob=blob,
                after_exists=after.exists,
                after_sha256=sha256(after.data) if after.exists else None,
                after_mode=after.mode if after.exists else None,
                after_blob=after_blob,
            ))
        fsync_dir(files)
        manifest = Manifest(patch_id, now_iso(), entries, planned_dirs(root, changes))
        data = json.dumps(asdict(manifest), indent=2).encode()
        write_atomic(directory / MANIFEST, data, mode=0o644, tag="manifest")
    except OSError as exc:
        raise StateError(f"cannot write snapshot {directory}: {exc.strerror or exc}",
                         hint="Free some space or fix the state directory's permissions.",
                         code="state-unwritable") from exc
    return manifest


def _write_blob(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def after(state: StateDir, manifest: Manifest, entry: SnapshotEntry) -> FileState | None:
    """What the patch wrote to one path (None when the snapshot does not hold it)."""
    if not entry.after_exists:
        return FileState(False)
    if entry.after_blob is None:
        return None
    try:
        data = (snapshot_dir(state, manifest.patch_id) / "files" / entry.after_blob).read_bytes()
    except OSError:
        return None
    return FileState(True, data, entry.after_mode if entry.after_mode is not None else 0o644)


def load(state: StateDir, patch_id: str) -> Manifest:
    path = snapshot_dir(state, patch_id) / MANIFEST
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        entries = [SnapshotEntry(**e) for e in data["entries"]]
        return Manifest(data["patch_id"], data["created_at"], entries,
                        list(data.get("created_dirs", [])))
    except FileNotFoundError:
        raise StateError(f"snapshot of patch {patch_id} is missing ({path})",
                         hint="The snapshot was deleted; the patch cannot be undone by calctl.",
                         code="snapshot-missing") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StateError(f"snapshot manifest {path} is unreadable or corrupt: {exc}",
                         code="snapshot-corrupt") from exc


def original(state: StateDir, manifest: Manifest, entry: SnapshotEntry) -> FileState:
    """The original content of one entry, checked against its sha256."""
    if not entry.existed:
        return FileState(False)
    path = snapshot_dir(state, manifest.patch_id) / "files" / str(entry.blob)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StateError(f"snapshot file {path} is unreadable: {exc.strerror}",
                         code="snapshot-corrupt") from exc
    if sha256(data) != entry.sha256:
        raise StateError(f"snapshot file {path} does not match its sha256 in the manifest",
                         hint="The snapshot was altered; restore the file by hand or from git.",
                         code="snapshot-corrupt")
    return FileState(True, data, entry.mode if entry.mode is not None else 0o644)


def current(root: Path, rel: str) -> FileState:
    path = root / rel
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return FileState(False)
    if not stat.S_ISREG(st.st_mode):
        return FileState(True, b"", stat.S_IMODE(st.st_mode))
    return FileState(True, path.read_bytes(), stat.S_IMODE(st.st_mode))


def matches(state: FileState, exists: bool, digest: str | None, mode: int | None) -> bool:
    if state.exists != exists:
        return False
    return not exists or (sha256(state.data) == digest and (mode is None or state.mode == mode))


def write_after(root: Path, changes: list[FileChange], manifest: Manifest, tag: str) -> None:
    """Put every change on disk: writes first (so a rename never loses content), then
    removals."""
    for rel in manifest.created_dirs:
        make_dirs(root / rel, root)
    for change in changes:
        if change.after.exists:
            write_atomic(root / change.path, change.after.data, mode=change.after.mode, tag=tag)
    for change in changes:
        if not change.after.exists:
            remove_durable(root / change.path)


def _keep_displaced(state: StateDir, manifest: Manifest, n: int, entry: SnapshotEntry,
                    now: FileState) -> bool:
    """Save content that is neither the original nor what the patch wrote (someone else's
    edit) before a restore replaces it; True when something was saved."""
    if not now.exists or matches(now, entry.after_exists, entry.after_sha256, None) or \
            matches(now, entry.existed, entry.sha256, None):
        return False
    target = snapshot_dir(state, manifest.patch_id) / "displaced"
    target.mkdir(parents=True, exist_ok=True)
    _write_blob(target / str(n), now.data)
    return True


def restore(state: StateDir, manifest: Manifest, root: Path, tag: str) -> list[str]:
    """Bring every touched path back to its original bytes and mode; idempotent.

    Returns the paths that had to change. Content found in a path that is neither
    the original nor the patch's (an edit made since) is first saved under
    ``snapshots/<id>/displaced/<n>``. Raises StateError when a path still differs
    afterwards (it never should).
    """
    changed: list[str] = []
    originals = {e.path: original(state, manifest, e) for e in manifest.entries}
    try:
        for n, entry in enumerate(manifest.entries):
            now = current(root, entry.path)
            _keep_displaced(state, manifest, n, entry, now)
            before = originals[entry.path]
            if before.exists and not matches(now, True, entry.sha256, entry.mode):
                target = root / entry.path
                if not target.parent.exists():
                    make_dirs(target.parent, root)
                write_atomic(target, before.data, mode=before.mode, tag=tag)
                changed.append(entry.path)
        for entry in manifest.entries:
            if not entry.existed and remove_durable(root / entry.path):
                changed.append(entry.path)
        for rel in reversed(manifest.created_dirs):
            with contextlib.suppress(FileNotFoundError, OSError):
                (root / rel).rmdir()  # only if empty: files of the user's stay
                fsync_dir((root / rel).parent)
    except OSError as exc:
        raise StateError(f"cannot restore the files of patch {manifest.patch_id}: "
                         f"{exc.strerror or exc}",
                         hint="Fix the problem and run `calctl patch recover`.",
                         code="restore-failed") from exc
    for entry in manifest.entries:
        if not matches(current(root, entry.path), entry.existed, entry.sha256, entry.mode):
            raise StateError(f"{entry.path} still differs from its snapshot after restoring "
                             f"patch {manifest.patch_id}", code="restore-failed")
    return changed
