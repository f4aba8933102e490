"""Snapshots: the original bytes, mode and sha256 of every path a patch touches.

``.calctl/snapshots/<id>/`` holds ``files/<n>`` (the original bytes of entry n)
and ``manifest.json``: for each path whether it existed, its sha256 and mode
before and after the patch, plus the directories the patch had to create.
The manifest is written (atomically) before any project file is touched, so a
rollback or a crash recovery always has what it needs.

A manifest says what a restore writes and deletes, so it is trusted only when
sealed with the user's key, and even then (a bug, a same-user mistake) every path
in it is confined like a patch's own paths before anything is touched, blob names
must be ones :func:`take` makes, and a restored mode keeps only the bits a patch
may set (:data:`RESTORABLE_BITS`).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import posixpath
import re
import stat
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from calctl.errors import StateError
from calctl.ids import is_id, now_iso
from calctl.patch import sealed
from calctl.patch.atomic import fsync_dir, make_dirs, remove_durable, write_atomic
from calctl.patch.paths import Confinement, PathRefused
from calctl.patch.validate import FileChange, FileState
from calctl.state import StateDir

MANIFEST = "manifest.json"
PURPOSE = "manifest"
# What a restore may give a file: rwx for the owner, r-x for others. Never setuid,
# setgid or sticky, never writable by group or others, whatever a record says.
RESTORABLE_BITS = 0o755
_BLOB = re.compile(r"[0-9]{1,9}(\.after)?")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def restorable(mode: int | None) -> int:
    """The permission bits a restore gives a file recorded with ``mode``."""
    return (0o644 if mode is None else mode) & RESTORABLE_BITS


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
        sealed.write(directory / MANIFEST, data, PURPOSE, tag="manifest")
    except OSError as exc:
        raise StateError(f"cannot write snapshot {directory}: {exc.strerror or exc}",
                         hint="Free some space or fix the state directory's permissions.",
                         code="state-unwritable") from exc
    return manifest


def _write_blob(path: Path, data: bytes) -> None:
    """Write a snapshot file as a new file: whatever holds the name (a link planted to
    somewhere else, an earlier attempt's file) is unlinked, never written through."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
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
    return FileState(True, data, restorable(entry.after_mode))


def load(state: StateDir, patch_id: str, root: Path) -> Manifest:
    """The manifest of ``patch_id``: sealed with this user's key, well-formed, every path
    confined to ``root`` (see :func:`confine`); StateError otherwise."""
    directory = snapshot_dir(state, patch_id)
    path = directory / MANIFEST
    if not is_id(patch_id):
        raise StateError(f"{patch_id!r} is not a calctl patch id; no snapshot is read for it",
                         code="snapshot-corrupt")
    try:
        raw = sealed.read(path, PURPOSE)
    except FileNotFoundError:
        raise StateError(f"snapshot of patch {patch_id} is missing ({path})",
                         hint="The snapshot was deleted; the patch cannot be undone by calctl.",
                         code="snapshot-missing") from None
    except sealed.Unsealed as exc:
        raise StateError(f"snapshot manifest {path} is not trusted: {exc}; nothing was "
                         "restored", hint=f"Restore the files from git if needed, and remove "
                         f"{directory}.", code="snapshot-untrusted") from None
    except OSError as exc:
        raise StateError(f"snapshot manifest {path} is unreadable: {exc.strerror or exc}",
                         code="snapshot-corrupt") from exc
    try:
        data: Any = json.loads(raw)
        entries = [_entry(e) for e in data["entries"]]
        dirs = data.get("created_dirs", [])
        if data["patch_id"] != patch_id or not isinstance(data["created_at"], str) or \
                not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
            raise ValueError("patch_id, created_at or created_dirs is wrong")
        manifest = Manifest(patch_id, data["created_at"], entries, list(dirs))
    except (ValueError, KeyError, TypeError) as exc:
        raise StateError(f"snapshot manifest {path} is corrupt: {exc}",
                         code="snapshot-corrupt") from exc
    confine(state, manifest, root)
    return manifest


_TYPES: dict[str, tuple[type, ...]] = {
    "path": (str,), "existed": (bool,), "after_exists": (bool,),
    "sha256": (str, type(None)), "after_sha256": (str, type(None)),
    "mode": (int, type(None)), "after_mode": (int, type(None)),
    "blob": (str, type(None)), "after_blob": (str, type(None)),
}


def _entry(raw: Any) -> SnapshotEntry:
    """One manifest entry, each field of the type :func:`take` writes."""
    if not isinstance(raw, dict) or set(raw) - {f.name for f in fields(SnapshotEntry)}:
        raise ValueError(f"entry {raw!r:.80} has unknown fields")
    for name, types in _TYPES.items():
        value = raw.get(name)
        if not isinstance(value, types) or (bool in types) != isinstance(value, bool):
            raise ValueError(f"entry field {name} is {value!r:.80}")
    for name in ("blob", "after_blob"):
        if raw.get(name) is not None and not _BLOB.fullmatch(raw[name]):
            raise ValueError(f"entry field {name} {raw[name]!r:.80} is not a snapshot file name")
    for name in ("sha256", "after_sha256"):
        if raw.get(name) is not None and not _SHA256.fullmatch(raw[name]):
            raise ValueError(f"entry field {name} is not a sha256")
    if raw["existed"] and (raw["blob"] is None or raw["sha256"] is None):
        raise ValueError(f"entry {raw['path']!r:.80} existed but has no snapshot file")
    return SnapshotEntry(**raw)


def confine(state: StateDir, manifest: Manifest, root: Path) -> None:
    """StateError unless every path of ``manifest`` is one a patch could have touched:
    relative, canonical (no ``.`` or ``..``), no symbolic link leading out of ``root``,
    nothing under ``.git/`` or the state directory."""
    rules = Confinement(root, state.path)
    where = f"snapshot manifest of patch {manifest.patch_id}"
    for rel in [*manifest.files, *manifest.created_dirs]:
        confine_path(rules, rel, where)


def confine_path(rules: Confinement, rel: Any, where: str) -> str:
    """``rel`` when a patch could have written it; StateError naming ``where`` otherwise."""
    try:
        if not isinstance(rel, str):
            raise PathRefused(f"{rel!r:.80} is not a path")
        parts = rel.split("/")
        if posixpath.normpath(rel) != rel or "." in parts or ".." in parts:
            raise PathRefused(f"{rel}: not a plain relative path (., .. or //)")
        rules.resolve(rel)
    except PathRefused as exc:
        raise StateError(f"{where}: {exc}; nothing was restored or removed",
                         hint="calctl never records such a path; remove the record if you did "
                         "not make it.", code="snapshot-unsafe") from None
    return rel


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
    return FileState(True, data, restorable(entry.mode))


def current(root: Path, rel: str) -> FileState:
    """What ``rel`` holds now. A link or anything but a regular file reads as empty: its
    target is never read (nor a FIFO waited on)."""
    path = root / rel
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return FileState(False)
    except OSError:
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return FileState(False)
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:  # such a name cannot exist
                return FileState(False)
            raise
        return FileState(True, b"", stat.S_IMODE(st.st_mode))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return FileState(True, b"", stat.S_IMODE(st.st_mode))
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return FileState(True, b"".join(chunks), stat.S_IMODE(st.st_mode))
    finally:
        os.close(fd)


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
    with contextlib.suppress(FileExistsError):
        target.mkdir(mode=0o700)
    if not stat.S_ISDIR(os.lstat(target).st_mode):  # a link: never written through
        raise StateError(f"{target} is not a directory; calctl does not write through links "
                         "in its state directory", hint="Remove it and run `calctl patch "
                         "recover`.", code="state-link")
    _write_blob(target / str(n), now.data)
    return True


def _as_recorded(now: FileState, entry: SnapshotEntry) -> bool:
    """Whether a path holds its original: the content, and the recorded mode or the one a
    restore gives it (a file left as it was is not rewritten only to drop bits)."""
    if not entry.existed:
        return not now.exists
    return matches(now, True, entry.sha256, None) and \
        now.mode in (entry.mode, restorable(entry.mode))


def restore(state: StateDir, manifest: Manifest, root: Path, tag: str) -> list[str]:
    """Bring every touched path back to its original bytes and mode; idempotent.

    Returns the paths that had to change. Content found in a path that is neither
    the original nor the patch's (an edit made since) is first saved under
    ``snapshots/<id>/displaced/<n>``. Raises StateError when a path still differs
    afterwards (it never should).
    """
    changed: list[str] = []
    confine(state, manifest, root)  # every path, before anything is touched
    originals = {e.path: original(state, manifest, e) for e in manifest.entries}
    try:
        for n, entry in enumerate(manifest.entries):
            now = current(root, entry.path)
            _keep_displaced(state, manifest, n, entry, now)
            before = originals[entry.path]
            if before.exists and not _as_recorded(now, entry):
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
        if not _as_recorded(current(root, entry.path), entry):
            raise StateError(f"{entry.path} still differs from its snapshot after restoring "
                             f"patch {manifest.patch_id}", code="restore-failed")
    return changed
