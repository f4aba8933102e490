"""The files ``migrate apply/status/verify`` work on, in execution order.

The order comes from :func:`calctl.sql.runtime.build_plan` (the dependency-safe
order of ``migrate order``), from filename order, or from a ``migration-plan``
document saved earlier (``--plan FILE``). Each file also learns here whether it
runs inside a transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from calctl.config import MigrateSettings
from calctl.documents import MigrationPlan
from calctl.errors import UsageError
from calctl.migrate.transactions import outside_transaction_reason
from calctl.sql.discovery import MigrationFile, discover
from calctl.store.schema import checksum

Order = Literal["plan", "filename"]


@dataclass(frozen=True)
class Unit:
    """One migration file in execution order."""

    file: MigrationFile
    position: int
    checksum: str
    outside_reason: str = ""

    @property
    def path(self) -> str:
        return self.file.path

    @property
    def transactional(self) -> bool:
        return not self.outside_reason


def load_units(directory: Path, settings: MigrateSettings, *, order: Order = "plan",
               cache_dir: Path | None = None, plan_document: MigrationPlan | None = None,
               ) -> list[Unit]:
    """Discover ``directory`` and put its files in ``order`` (or the given plan's order)."""
    files = discover(directory, globs=settings.glob, exclude=settings.exclude,
                     sort=settings.sort)
    for f in files:
        _check_name(f.path)
    transaction = {f.path: True for f in files}
    if plan_document is not None:
        _check_plan_directory(plan_document, directory)
        files = _in_plan_order(files, plan_document)
        transaction.update({p.path: p.transaction for p in plan_document.files})
    elif order == "plan":
        from calctl.sql.runtime import build_plan

        plan, files = build_plan(directory, settings, cache_dir=cache_dir, files=files)
        transaction.update({p.path: p.transaction for p in plan.files})
    return [
        Unit(f, i, checksum(f.raw), outside_transaction_reason(f.path, f.text, transaction[f.path]))
        for i, f in enumerate(files)
    ]


def _check_name(path: str) -> None:
    """A file name that is not UTF-8 cannot be recorded in ``calctl_migrations`` (a text
    column): refused before anything runs, naming the file."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        raise UsageError(
            f"{shown}: the file name is not valid UTF-8, so it cannot be recorded in the "
            "history table", hint="Rename the file with a UTF-8 name.",
            code="bad-file-name") from None


def _check_plan_directory(plan: MigrationPlan, directory: Path) -> None:
    """A plan lists paths relative to the directory it was made for; applied to another
    directory, the same names would be other files. Its ``directory`` must be this one
    (a relative one is read from the current directory, where `migrate order` ran)."""
    planned = plan.directory.strip()
    if planned:
        try:
            same = Path(planned).resolve() == directory.resolve()
        except (OSError, RuntimeError, ValueError):
            same = False
        if same:
            return
    raise UsageError(
        f"the plan was made for {planned or 'no directory'!s}, not {directory}",
        hint=f"Make the plan for this directory: `calctl migrate order {directory} --json`.",
        code="plan-for-another-directory",
    )


def _in_plan_order(files: list[MigrationFile], plan: MigrationPlan) -> list[MigrationFile]:
    by_path = {f.path: f for f in files}
    planned = [p.path for p in sorted(plan.files, key=lambda p: p.position)]
    missing = [p for p in planned if p not in by_path]
    if missing:
        raise UsageError(
            f"the plan lists {missing[0]}, which is not in {plan.directory or 'the directory'}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            hint="The plan is stale: run `calctl migrate order --json` again.",
            code="stale-plan",
        )
    extra = [f.path for f in files if f.path not in set(planned)]
    if extra:
        raise UsageError(
            f"{extra[0]} is not in the plan" + (f" (and {len(extra) - 1} more)"
                                                if len(extra) > 1 else ""),
            hint="The plan is stale: run `calctl migrate order --json` again.",
            code="stale-plan",
        )
    return [by_path[p] for p in planned]


def find_unit(units: list[Unit], name: str) -> Unit:
    """The file ``--to NAME`` means: its path, its file name, or the one path starting so."""
    for unit in units:
        if unit.path == name:
            return unit
    named = [u for u in units if u.path.rsplit("/", 1)[-1] == name]
    if len(named) == 1:
        return named[0]
    prefixed = [u for u in units if u.path.startswith(name)]
    if len(prefixed) == 1:
        return prefixed[0]
    if not named and not prefixed:
        raise UsageError(f"--to {name}: no migration file of that name",
                         hint="Give a path as `calctl migrate status` lists it.",
                         code="unknown-migration")
    raise UsageError(f"--to {name}: more than one migration file matches",
                     hint="Give the full relative path.", code="ambiguous-migration")
