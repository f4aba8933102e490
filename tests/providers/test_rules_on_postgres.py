"""End to end on real PostgreSQL: a misnumbered directory fails `migrate apply --order
filename`; its finding, made a bug report, gets a rename patch from the rules provider that
`calctl patch apply --verify 'calctl migrate verify --order filename'` verifies."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from prov_helpers import settings_for

from calctl.documents import BugReport, Finding
from calctl.providers.base import ProviderContext
from calctl.providers.rules import RulesProvider
from support import MISNUMBERED_SHOP

MIGRATIONS = {
    **MISNUMBERED_SHOP,
    "004_totals.sql": ("CREATE VIEW totals AS SELECT c.id, count(o.id) AS n FROM customers c\n"
                       "LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id;\n"),
}


def test_misnumbered_directory_gets_a_verified_rename(project: Path, pg_url: str,
                                                       calctl: Any) -> None:
    for name, sql in MIGRATIONS.items():
        (project / "migrations" / name).write_text(sql, encoding="utf-8")
    failed = calctl("migrate", "apply", "--order", "filename", "--json", "--database-url",
                    pg_url, cwd=project)
    assert failed.returncode == 1, failed.stderr
    finding = Finding.from_dict(failed.json())
    assert finding.file == "migrations/002_orders.sql" and finding.sqlstate == "42P01"
    # what report/ will build from the finding (wired later): its fields, as they are
    report = BugReport(fingerprint="fp1:misnumbered", error=finding.error,
                       error_type=finding.sqlstate, traceback=finding.traceback,
                       file=finding.file, line=finding.line,
                       context={"sqlstate": finding.sqlstate, "data": finding.data})
    ctx = ProviderContext(root=project, settings=settings_for(project), database_url=pg_url)
    result = RulesProvider().diagnose(report, ctx)
    diagnosis = result.diagnosis
    assert diagnosis is not None and diagnosis.patch is not None, result
    assert diagnosis.summary.startswith("FIX001 forward-dependency")
    assert {e.op for e in diagnosis.patch.edits} == {"rename"}
    # 001 is applied, so it is never renamed; 002 failed inside its own transaction (a
    # history row with success = false), so it may be, and the patch engine agrees
    renamed = {e.path.removeprefix("migrations/") for e in diagnosis.patch.edits}
    assert renamed == {"002_orders.sql", "003_customers.sql"}
    patch_file = project.parent / "fix.json"
    patch_file.write_text(json.dumps(diagnosis.patch.to_dict()), encoding="utf-8")
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "DATABASE_URL": pg_url}
    applied = calctl("patch", "apply", str(patch_file), "--verify",
                     "calctl migrate verify --order filename", "--json", cwd=project, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert applied.json()["status"] == "verified"
    # and the target database now takes the directory in filename order
    rerun = calctl("migrate", "apply", "--order", "filename", "--json", "--database-url",
                   pg_url, cwd=project)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
