"""Undoing a patch byte-for-byte: ``calctl patch rollback ID``.

The files are compared with the state the patch left them in (the manifest's
"after" sha256); if the user changed one since, the rollback is refused with
the difference shown, unless ``force``. The rollback itself is journalled
(rolling_back → rolled_back), so a crash half-way is finished by ``recover``.
"""

from __future__ import annotations

from calctl.documents import PatchResult
from calctl.errors import StateError, UsageError
from calctl.patch import journal as journal_mod
from calctl.patch import snapshot
from calctl.patch.context import PatchEnv
from calctl.patch.diffs import unified
from calctl.patch.journal import Journal
from calctl.patch.records import Trail
from calctl.patch.undo import journal_files, undo


def resolve_id(env: PatchEnv, trail: Trail, given: str) -> str:
    """An exact patch id, or a unique prefix of one (as ``git`` does for commits)."""
    given = given.strip()
    if not given or "/" in given or given.startswith("."):
        raise UsageError(f"{given!r} is not a patch id", hint="See `calctl patch list`.")
    if (env.state.snapshots / given).is_dir() or trail.exists(given):
        return given
    candidates: set[str] = set()
    for directory in (env.state.snapshots, env.state.journal):
        if directory.is_dir():
            candidates.update(p.name.removesuffix(".json") for p in directory.iterdir()
                              if p.name.startswith(given))
    if len(candidates) == 1:
        return candidates.pop()
    if candidates:
        raise UsageError(f"patch id {given!r} is ambiguous: " + ", ".join(sorted(candidates)[:5]),
                         hint="Give more characters of the id.", code="ambiguous-id")
    raise UsageError(f"no patch with id {given!r}", hint="See `calctl patch list`.",
                     code="unknown-patch")


def rollback_patch(env: PatchEnv, given_id: str, *, trail: Trail, force: bool = False,
                   git: bool = False) -> PatchResult:
    """Undo one applied patch. The caller need not hold the patch lock; this takes it."""
    from calctl.patch.recover import recover_locked

    env.state.ensure()
    with env.state.lock("patch", timeout=env.lock_timeout, purpose="patch rollback"):
        recover_locked(env, trail)
        patch_id = resolve_id(env, trail, given_id)
        record = journal_mod.read(env.state, patch_id)
        if record is None:
            row = trail.row(patch_id)
            status = row["status"] if row else "unknown"
            raise StateError(f"patch {patch_id} has no snapshot (status {status}); there is "
                             "nothing calctl can roll back",
                             hint="A refused or already-applied patch never changed a file.",
                             code="no-snapshot")
        description = str(record.get("description", ""))
        files = journal_files(env, record)
        if record.get("status") == "rolled_back" or record.get("phase") == "rolled_back":
            return PatchResult(patch_id=patch_id, status="rolled_back", snapshot_id=patch_id,
                               files=files, description=description,
                               notes=["already rolled back; nothing to do"])
        manifest = snapshot.load(env.state, patch_id, env.root)
        drift, diffs = _drift(env, manifest)
        if drift and not force:
            reasons = [f"{path}: changed since the patch was applied" for path in drift]
            trail.emit("patch.refused", patch_id, {"operation": "rollback", "reasons": reasons})
            return PatchResult(patch_id=patch_id, status="refused", snapshot_id=patch_id,
                               files=files, description=description, reasons=reasons,
                               diff=diffs,
                               notes=["pass --force to restore the snapshot anyway (the later "
                                      "changes to these files are lost)"])
        journal = Journal.reopen(env.state, record)
        changed = undo(env, journal, "rollback requested" + (" (forced)" if drift else ""))
        notes = [f"forced over later changes to {', '.join(drift)}; that content is saved "
                 f"in {snapshot.snapshot_dir(env.state, patch_id) / 'displaced'}"] if drift else []
        commit = ""
        previous = str(record.get("git_commit") or "")
        if previous and git:
            from calctl.patch.gitmode import GitRepo, revert_message

            repo = GitRepo(env.root)
            commit = repo.commit(files, revert_message(patch_id, previous),
                                 branch=record.get("git_branch") or None)
            notes.append(f"revert commit {commit[:12]}")
        elif previous:
            notes.append(f"patch was committed as {previous[:12]}; pass --git to make a revert "
                         "commit")
        trail.update(patch_id, status="rolled_back", success=False, rolled_back=True)
        trail.emit("patch.rolled_back", patch_id, {"reason": "rollback requested",
                                                   "files": files, "restored": changed})
        return PatchResult(patch_id=patch_id, status="rolled_back", snapshot_id=patch_id,
                           files=files, description=description, notes=notes,
                           git_commit=commit)


def _drift(env: PatchEnv, manifest: snapshot.Manifest) -> tuple[list[str], str]:
    """Touched paths that no longer hold what the patch wrote, and their differences."""
    drift: list[str] = []
    diffs: list[str] = []
    for entry in manifest.entries:
        now = snapshot.current(env.root, entry.path)
        if snapshot.matches(now, entry.after_exists, entry.after_sha256, entry.after_mode):
            continue
        drift.append(entry.path)
        expected = snapshot.after(env.state, manifest, entry)
        if expected is not None:
            diffs.append(unified(entry.path, expected, now,
                                 old_label=f"patched/{entry.path}",
                                 new_label=f"now/{entry.path}"))
    return drift, "".join(diffs)
