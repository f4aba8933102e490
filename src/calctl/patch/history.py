"""Read-only views of past and in-flight patches: ``patch list`` and ``patch show``."""

from __future__ import annotations

from typing import Any

from calctl.documents import (
    Edit,
    PatchList,
    PatchPhase,
    PatchRecord,
    PatchSummary,
    VerifyRun,
)
from calctl.errors import DocumentError
from calctl.patch import journal as journal_mod
from calctl.patch.context import PatchEnv
from calctl.patch.records import Trail
from calctl.patch.rollback import resolve_id


def list_patches(env: PatchEnv, trail: Trail, limit: int = 50) -> PatchList:
    """Newest first: patches in flight (from journals), then the store's rows."""
    items: list[PatchSummary] = []
    seen: set[str] = set()
    for record in reversed(journal_mod.in_flight(env.state)):
        pid = str(record["patch_id"])
        seen.add(pid)
        items.append(PatchSummary(pid, f"in flight ({record['phase']})",
                                  str(record.get("description", "")),
                                  list(record.get("files", [])),
                                  str(record["phases"][0]["ts"]) if record.get("phases") else "",
                                  in_flight=True))
    if trail.store is not None:
        for row in trail.store.patch_applications(limit):
            if row["patch_id"] in seen:
                continue
            items.append(PatchSummary(
                str(row["patch_id"]), str(row["status"]), str(row["description"] or ""),
                [f for f in str(row["file_path"]).split(", ") if f and f != "-"],
                str(row["applied_at"]), rolled_back=bool(row["rolled_back"])))
    return PatchList(patches=items[:limit])


def show_patch(env: PatchEnv, trail: Trail, given_id: str) -> PatchRecord:
    """Edits, diff, status history and verification output of one patch."""
    patch_id = resolve_id(env, trail, given_id)
    record: dict[str, Any] = journal_mod.read(env.state, patch_id) or {}
    row = trail.row(patch_id) or {}
    document = row.get("document") if isinstance(row.get("document"), dict) else {}
    assert isinstance(document, dict)
    patch_doc = record.get("patch") or document.get("patch") or {}
    edits: list[Edit] = []
    for i, e in enumerate(patch_doc.get("edits", []) if isinstance(patch_doc, dict) else []):
        try:
            edits.append(Edit.from_dict(e, f"edits[{i}]"))
        except DocumentError:
            continue
    in_flight = journal_mod.in_flight_path(env.state, patch_id).exists()
    status = str(row.get("status") or record.get("status") or "unknown")
    if in_flight:
        status = f"in flight ({record.get('phase')})"
    verification = [VerifyRun.from_dict(v) for v in record.get("verification", [])
                    if isinstance(v, dict)]
    reasons = list(document.get("reasons", []))
    if row.get("verification_error"):
        reasons.append(str(row["verification_error"]))
    return PatchRecord(
        patch_id=patch_id,
        status=status,
        description=str(record.get("description") or row.get("description") or ""),
        files=list(record.get("files") or [f for f in str(row.get("file_path", "")).split(", ")
                                           if f and f != "-"]),
        snapshot_id=patch_id if record else "",
        applied_at=str(row.get("applied_at") or ""),
        in_flight=in_flight,
        edits=edits,
        diff=str(record.get("diff") or document.get("diff") or ""),
        phases=[PatchPhase(str(p["phase"]), str(p["ts"]), str(p.get("detail", "")))
                for p in record.get("phases", [])],
        verification=verification,
        reasons=reasons,
        git_commit=str(record.get("git_commit") or ""),
        report_id=str(record.get("report_id") or row.get("report_id") or ""),
        source=str(record.get("source") or row.get("source") or ""),
    )
