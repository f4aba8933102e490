"""``migrate apply``, ``status`` and ``verify`` as functions: settings in, a document out.

The CLI parses flags, calls one of these and renders what comes back; a
failing migration is a result (a ``finding`` document, exit 1), not an
exception, so it can be printed and piped into ``calctl report -``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from calctl.config import Settings
from calctl.documents import (
    Document,
    MigrationPlan,
    MigrationRun,
    MigrationState,
    MigrationStatus,
)
from calctl.errors import ExitCode
from calctl.migrate.engine import ApplyOptions, Outcome, Progress, apply
from calctl.migrate.failure import Failure, to_finding
from calctl.migrate.units import Order, Unit, load_units


@dataclass(frozen=True)
class Source:
    """Where the files come from and in which order."""

    directory: Path
    order: Order = "plan"
    plan_document: MigrationPlan | None = None


@dataclass(frozen=True)
class CommandResult:
    document: Document
    exit_code: int
    failure: Failure | None = None
    outcome: Outcome | None = None
    units: list[Unit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _units(settings: Settings, source: Source) -> list[Unit]:
    from calctl.state import StateDir

    cache: Path | None = None
    if source.order == "plan" and source.plan_document is None:
        cache = StateDir(settings.state_dir).ensure().cache
    return load_units(source.directory, settings.migrate, order=source.order, cache_dir=cache,
                      plan_document=source.plan_document)


def _tools(settings: Settings, source: Source, units: list[Unit]) -> tuple[str, ...]:
    """The tools whose history table may be adopted: those of the directory's layout
    (:mod:`calctl.sql.layout`; ``--sort`` / ``migrate.sort`` choose it)."""
    from calctl.sql.layout import detect

    layout = detect(str(source.directory), [u.path for u in units],
                    [u.file.raw for u in units], settings.migrate.sort)
    return layout.tools


def _prefix(settings: Settings, directory: Path) -> str:
    """The migration directory relative to the project root, as a path prefix."""
    try:
        relative = directory.resolve().relative_to(settings.root.resolve())
    except ValueError:
        return str(directory.resolve()) + "/"
    text = relative.as_posix()
    return "" if text == "." else text + "/"


def _finish(settings: Settings, source: Source, outcome: Outcome, units: list[Unit], *,
            command: str, database: str, dry_run: bool, throwaway: str = "",
            hint_for: Callable[[Failure], str] | None = None) -> CommandResult:
    if outcome.failure is not None:
        failure = outcome.failure
        if hint_for is not None:
            extra = hint_for(failure)
            if extra:
                from dataclasses import replace

                failure = replace(failure, hint=(failure.hint + " " + extra).strip())
        finding = to_finding(
            failure, check=f"migrate.{command}" + (".dry-run" if dry_run else ""),
            file_prefix=_prefix(settings, source.directory),
            data={"database": database, "applied": [s.path for s in outcome.steps
                                                     if s.status in ("applied", "dry_run")],
                  **({"throwaway": throwaway} if throwaway else {})})
        return CommandResult(finding, ExitCode.FINDINGS, failure, outcome, units)
    run = MigrationRun(
        directory=str(source.directory), database=database,
        command="verify" if command == "verify" else "apply", dry_run=dry_run,
        steps=outcome.steps, already_applied=outcome.already_applied, throwaway=throwaway,
        duration_ms=outcome.duration_ms, adopted_from=outcome.adopted_from)
    return CommandResult(run, ExitCode.OK, None, outcome, units)


def apply_command(settings: Settings, source: Source, url: str, options: ApplyOptions, *,
                  lock_timeout: float, progress: Progress | None = None,
                  waiting: Callable[[str], None] | None = None) -> CommandResult:
    """Apply the pending files of ``source`` to the database at ``url``; ``waiting`` hears,
    in words, whom it waits for when another applier holds the lock."""
    from dataclasses import replace

    from calctl.migrate.locking import Holder, advisory_lock, describe
    from calctl.migrate.timeouts import Timeouts
    from calctl.postgres import connect, describe_target

    units = _units(settings, source)
    target = describe_target(url)
    if not options.tools:
        options = replace(options, tools=_tools(settings, source, units))
    # every file waits at most this long for a busy table ([migrate] ddl_lock_timeout)
    options = replace(options, timeouts=Timeouts(settings.migrate.ddl_lock_timeout,
                                                 settings.migrate.statement_timeout))
    conn = connect(url, purpose="calctl migrate apply")
    try:
        def wait_note(who: Holder | None) -> None:
            if waiting is not None:
                waiting(f"waiting up to {lock_timeout:g} s for the migration lock of {target}, "
                        f"held by {describe(who)}")

        with advisory_lock(conn, timeout=lock_timeout, target=target, waiting=wait_note):
            outcome = apply(conn, units, options, progress=progress)
    finally:
        conn.close()
    return _finish(settings, source, outcome, units, command="apply", database=target,
                   dry_run=options.dry_run)


def status_command(settings: Settings, source: Source, url: str, *,
                   adopt: bool = False) -> CommandResult:
    """Every file's state against the history table of the database at ``url`` (and
    another tool's history: ``adopt``, or when calctl's table does not exist)."""
    from calctl.migrate.engine import adopted_history
    from calctl.migrate.history import History
    from calctl.postgres import connect, describe_target

    units = _units(settings, source)
    conn = connect(url, purpose="calctl migrate status")
    try:
        history = History(conn)
        ours = history.exists()
        rows = history.rows()
        foreign = adopted_history(conn, history, units, _tools(settings, source, units),
                                  adopt)
    finally:
        conn.close()
    adopted = foreign.applied if foreign is not None else {}
    states: list[MigrationState] = []
    for unit in units:
        row = rows.get(unit.path)
        if row is None and unit.path in adopted:
            states.append(MigrationState(unit.path, "applied", unit.position, unit.checksum,
                                         applied_at=adopted[unit.path]))
            continue
        if row is None:
            states.append(MigrationState(unit.path, "pending", unit.position, unit.checksum))
            continue
        state: Literal["applied", "changed", "failed"]
        if not row.success:
            state = "failed"
        elif row.checksum != unit.checksum:
            state = "changed"
        else:
            state = "applied"
        states.append(MigrationState(
            unit.path, state, unit.position, unit.checksum, row.checksum,
            row.applied_at.isoformat() if row.applied_at else "", row.execution_order,
            row.duration_ms if row.success else None, row.error))
    known = {u.path for u in units}
    for path, row in rows.items():
        if path not in known:
            states.append(MigrationState(
                path, "missing-locally", None, "", row.checksum,
                row.applied_at.isoformat() if row.applied_at else "", row.execution_order,
                row.duration_ms, row.error))
    ok = not any(s.state in ("changed", "failed", "missing-locally") for s in states)
    whose = "calctl"
    if foreign is not None:
        whose = f"calctl+{foreign.tool}" if ours else foreign.tool
    document = MigrationStatus(directory=str(source.directory), database=describe_target(url),
                               files=states, ok=ok, history=whose,
                               history_table=foreign.table if foreign else "")
    return CommandResult(document, ExitCode.OK if ok else ExitCode.FINDINGS, units=units)


def verify_command(settings: Settings, source: Source, server_url: str | None, *,
                   throwaway_kind: str = "auto", note: Callable[[str], None] = lambda _: None,
                   progress: Progress | None = None) -> CommandResult:
    """Apply the whole directory to a throwaway database; report the first failure."""
    from calctl.migrate.throwaway import Kind, missing_extension, throwaway_database
    from calctl.postgres import connect

    units = _units(settings, source)
    kind: Kind = throwaway_kind  # type: ignore[assignment]
    with throwaway_database(server_url, kind=kind, note=note) as db:
        conn = connect(db.url, purpose="calctl migrate verify")
        try:
            outcome = apply(conn, units, ApplyOptions(record_failures=False), progress=progress)
        finally:
            conn.close()

    def hint_for(failure: Failure) -> str:
        extension = missing_extension(failure.message + " " + failure.detail)
        if extension and db.kind == "embedded":
            return (f"The embedded server has no contrib extensions, so extension "
                    f'"{extension}" is missing: install PostgreSQL with its contrib package '
                    "(Debian/Ubuntu: apt install postgresql) so verify can use initdb, or "
                    "pass --database-url of a server that has it.")
        if extension:
            return (f'Extension "{extension}" is not installed on {db.description}; '
                    "install it there or verify against a server that has it.")
        return ""

    return _finish(settings, source, outcome, units, command="verify", database=db.description,
                   dry_run=False, throwaway=db.kind, hint_for=hint_for)
