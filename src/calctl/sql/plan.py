"""The migration plan: the dependency-safe order of a directory's files.

(Placeholder until the analysis lands: filename order, nothing moved. The
signature is the contract ``migrate apply/verify`` build on.)
"""

from __future__ import annotations

from pathlib import Path

from calctl.config import MigrateSettings
from calctl.documents import MigrationPlan, PlanFile
from calctl.sql.discovery import MigrationFile, discover


def build_plan(directory: Path, settings: MigrateSettings, *,
               cache_dir: Path | None = None,
               files: list[MigrationFile] | None = None) -> tuple[MigrationPlan,
                                                                   list[MigrationFile]]:
    """Plan ``directory``: returns the plan document and the files in execution order."""
    if files is None:
        files = discover(directory, globs=settings.glob, exclude=settings.exclude)
    plan = MigrationPlan(
        directory=str(directory),
        files=[PlanFile(path=f.path, position=i) for i, f in enumerate(files)],
    )
    return plan, files
