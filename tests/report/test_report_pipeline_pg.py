"""Issue 13's end-to-end acceptance, through the real commands only: a misnumbered
directory's `migrate apply --json` finding piped to `calctl report -` gets a rename patch
from the `rules` provider, and `calctl patch apply -` takes the diagnosis and verifies it
with `calctl migrate verify --order filename` on real PostgreSQL."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from support import MISNUMBERED_SHOP

MIGRATIONS = MISNUMBERED_SHOP


def test_apply_finding_piped_to_report_then_patch_apply(project: Path, pg_url: str,
                                                        calctl: Any) -> None:
    for name, sql in MIGRATIONS.items():
        (project / "migrations" / name).write_text(sql, encoding="utf-8")
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DATABASE_URL": pg_url}
    failed = calctl("migrate", "apply", "--order", "filename", "--json", cwd=project, env=env)
    assert failed.returncode == 1, failed.stderr
    assert failed.json()["kind"] == "finding"

    diagnosed = calctl("report", "-", "--json", cwd=project, env=env, input=failed.stdout)
    assert diagnosed.returncode == 0, diagnosed.stdout + diagnosed.stderr
    diagnosis = diagnosed.json()
    assert diagnosis["kind"] == "diagnosis" and diagnosis["provider"] == "rules"
    edits = diagnosis["patch"]["edits"]
    assert edits and {e["op"] for e in edits} == {"rename"}
    assert not any("001_order_status" in e["path"] for e in edits)  # applied: never renamed
    assert pg_url not in diagnosed.stdout + diagnosed.stderr

    applied = calctl("patch", "apply", "-", "--verify", "calctl migrate verify --order filename",
                     "--json", cwd=project, env=env, input=diagnosed.stdout)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert applied.json()["status"] == "verified"
    rerun = calctl("migrate", "apply", "--order", "filename", "--json", cwd=project, env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
