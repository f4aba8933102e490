"""The migration engine: applies pending files to a PostgreSQL database, safely.

Under one advisory lock, on one connection, each pending file runs in its own
transaction, statement by statement, and its history row is written inside
that same transaction; a file that cannot run inside a transaction runs
statement by statement in autocommit mode and is recorded when it has run
through. Before any statement of a file runs, the file is split and checked
(:func:`prepare`): a statement PostgreSQL's parser rejects, or transaction control
other than a leading BEGIN and a trailing COMMIT, refuses the file whole.
A failing statement stops everything: its file is rolled back and the
failure names the file, line and column (the server's error position mapped
back through the statement's offset in the file), SQLSTATE, message and hint.

``dry_run`` runs every pending file inside one transaction (a savepoint per
file) that is rolled back at the end, so nothing changes.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from calctl.documents import MigrationStep
from calctl.errors import ExternalError, StateError, UsageError
from calctl.migrate import positions
from calctl.migrate.failure import Failure
from calctl.migrate.history import History, Row
from calctl.migrate.statements import Statement, split, statement_at
from calctl.migrate.target import changes_session
from calctl.migrate.timeouts import Timeouts
from calctl.migrate.transactions import runnable
from calctl.migrate.units import Unit, find_unit
from calctl.output import plural
from calctl.postgres import reset_session

if TYPE_CHECKING:
    import psycopg

    from calctl.migrate.adopt import Adopted


@dataclass(frozen=True)
class ApplyOptions:
    dry_run: bool = False
    to: str | None = None
    repair: bool = False
    out_of_order: bool = False
    record_failures: bool = True
    # adopt another tool's history (calctl.migrate.adopt): the tools whose table may
    # hold it (the directory's layout), and whether --adopt asked for it even though
    # calctl's own table exists (without it, only when that table does not)
    tools: tuple[str, ...] = ()
    adopt: bool = False
    # lock_timeout / statement_timeout of each file (calctl.migrate.timeouts)
    timeouts: Timeouts = field(default_factory=Timeouts)


@dataclass(frozen=True)
class Outcome:
    """What one run did; ``failure`` is set when it stopped early."""

    steps: list[MigrationStep] = field(default_factory=list)
    already_applied: int = 0
    failure: Failure | None = None
    diffs: dict[str, str] = field(default_factory=dict)
    duration_ms: float = 0.0
    adopted_from: str = ""  # "prisma's _prisma_migrations" when another tool's history counted


Progress = Callable[[Unit, str], None]


def apply(conn: psycopg.Connection[Any], units: list[Unit], options: ApplyOptions, *,
          progress: Progress | None = None) -> Outcome:
    """Apply the pending ``units`` on ``conn`` (the caller holds the advisory lock)."""
    import psycopg

    started = time.perf_counter()
    history = History(conn)
    try:
        foreign = adopted_history(conn, history, units, options.tools, options.adopt)
        if not options.dry_run:
            history.ensure()
        rows = history.rows()
        done = {path: row for path, row in rows.items() if row.success}
        steps: list[MigrationStep] = []
        if foreign is not None:
            _adopt(conn, history, units, foreign, done, steps, options.dry_run)

        changed = [u for u in units if u.path in done and done[u.path].checksum != u.checksum]
        diffs: dict[str, str] = {}
        if changed:
            if not options.repair:
                return Outcome(failure=_changed_failure(changed, done),
                               duration_ms=_ms(started))
            for unit in changed:
                diffs[unit.path] = _diff(history.content(unit.path), unit)
                if not options.dry_run:
                    history.repair(unit.path, unit.checksum, _normalised(unit.file.raw))
                steps.append(MigrationStep(unit.path, unit.checksum, "repaired",
                                           transaction=unit.transactional,
                                           reason=f"recorded checksum was "
                                           f"{done[unit.path].checksum[:12]}…",
                                           diff=diffs[unit.path]))

        pending = [u for u in units if u.path not in done]
        applied_positions = [u.position for u in units if u.path in done]
        last = max(applied_positions, default=-1)
        early = [u for u in pending if u.position < last]
        if early and not options.out_of_order:
            last_path = next(u.path for u in units if u.position == last)
            return Outcome(steps=steps, failure=_out_of_order(early, last_path),
                           already_applied=len(done), diffs=diffs, duration_ms=_ms(started),
                           adopted_from=foreign.source if foreign else "")
        if options.to:
            stop = find_unit(units, options.to)
            pending = [u for u in pending if u.position <= stop.position]

        failure = _run(conn, history, pending, options, steps, progress)
        return Outcome(steps=steps, already_applied=len(applied_positions), failure=failure,
                       diffs=diffs, duration_ms=_ms(started),
                       adopted_from=foreign.source if foreign else "")
    except psycopg.OperationalError as exc:
        if conn.broken or conn.closed:
            raise ExternalError(
                f"lost the connection to the database: {_first_line(exc)}",
                hint="The file in flight was rolled back by the server; run apply again.",
                code="database-lost",
            ) from None
        raise


def adopted_history(conn: psycopg.Connection[Any], history: History, units: list[Unit],
                    tools: tuple[str, ...], adopt: bool) -> Adopted | None:
    """Another tool's history of this database (:mod:`calctl.migrate.adopt`), when it is
    to count: ``adopt`` (``--adopt``), or calctl's own table does not exist yet."""
    if adopt and not tools:
        raise UsageError("--adopt: the directory belongs to no tool calctl knows the "
                         "history of (its files are in natural order)",
                         hint="Name the tool with --sort (prisma, golang-migrate, goose, "
                         "flyway, diesel, sqlx or dbmate).", code="no-foreign-tool")
    if not tools or not (adopt or not history.exists()):
        return None
    from calctl.migrate.adopt import TABLES, read

    found = read(conn, tools, [u.path for u in units])
    if found is None and adopt:
        tables = " or ".join(dict.fromkeys(TABLES[t] for t in tools))
        raise StateError(f"--adopt: the database has no {tools[0]} history ({tables})",
                         hint="Run without --adopt, or check --database-url and --sort.",
                         code="no-foreign-history")
    return found


def _adopt(conn: psycopg.Connection[Any], history: History, units: list[Unit],
           foreign: Adopted, done: dict[str, Row], steps: list[MigrationStep],
           dry_run: bool) -> None:
    """Count the files ``foreign`` records as applied as calctl's: recorded in
    calctl_migrations (one transaction; not in a dry run) with their current checksum,
    so later runs need the other tool's table no more."""
    adopted = [u for u in units if u.path in foreign.applied and u.path not in done]
    if not adopted:
        return
    reason = f"recorded as applied in {foreign.source}"
    if not dry_run:
        with conn.transaction():
            for unit in adopted:
                history.record_success(unit.path, unit.checksum, 0.0,
                                       _normalised(unit.file.raw), unit.transactional)
    for unit in adopted:
        done[unit.path] = Row(unit.path, unit.checksum, None, 0.0, None, True, "")
        steps.append(MigrationStep(unit.path, unit.checksum, "adopted",
                                   transaction=unit.transactional, reason=reason))


def _run(conn: psycopg.Connection[Any], history: History, pending: list[Unit],
         options: ApplyOptions, steps: list[MigrationStep],
         progress: Progress | None) -> Failure | None:
    if options.dry_run:
        # One transaction around everything, rolled back: later files see earlier ones.
        with conn.transaction(force_rollback=True):
            for unit in pending:
                if not unit.transactional:
                    # a file apply would refuse is refused here too, though it is not run
                    refused = prepare(unit)[1]
                    if refused:
                        steps.append(MigrationStep(unit.path, unit.checksum, "failed",
                                                   transaction=False,
                                                   reason=unit.outside_reason))
                        return refused
                    steps.append(MigrationStep(unit.path, unit.checksum, "skipped",
                                               transaction=False,
                                               reason=unit.outside_reason +
                                               "; a dry run cannot roll it back"))
                    continue
                failure = _run_one(conn, history, unit, options, steps, progress)
                if failure:
                    return failure
        return None
    for unit in pending:
        failure = _run_one(conn, history, unit, options, steps, progress)
        if failure:
            return failure
    return None


def _run_one(conn: psycopg.Connection[Any], history: History, unit: Unit,
             options: ApplyOptions, steps: list[MigrationStep],
             progress: Progress | None) -> Failure | None:
    import psycopg

    if progress:
        progress(unit, "start")
    started = time.perf_counter()
    statements, refused = prepare(unit)
    if refused:
        # nothing of the file ran: refused as a whole, like a file that fails
        if options.record_failures and not options.dry_run:
            history.record_failure(unit.path, unit.checksum, refused.headline(),
                                   unit.transactional)
        steps.append(MigrationStep(unit.path, unit.checksum, "failed", _ms(started),
                                   unit.transactional, unit.outside_reason))
        if progress:
            progress(unit, "failed")
        return refused
    index = 0
    timeouts = options.timeouts
    try:
        if unit.transactional:
            with conn.transaction():
                timeouts.set(conn, local=True)  # before the file's own SETs, which win
                for index in range(len(statements)):
                    conn.execute(statements[index].text)
                if not options.dry_run:
                    history.record_success(unit.path, unit.checksum, _ms(started),
                                           _normalised(unit.file.raw), True)
        else:
            timeouts.set(conn, local=False)
            try:
                for index in range(len(statements)):
                    conn.execute(statements[index].text)
            finally:
                timeouts.reset(conn)
            history.record_success(unit.path, unit.checksum, _ms(started),
                                   _normalised(unit.file.raw), False)
    except psycopg.Error as exc:
        if conn.broken or conn.closed:
            raise
        failure = timeouts.explain(_sql_failure(unit, statements, index, exc),
                                   statements[:index + 1])
        if options.record_failures and not options.dry_run:
            history.record_failure(unit.path, unit.checksum, failure.headline(),
                                   unit.transactional)
        steps.append(MigrationStep(unit.path, unit.checksum, "failed", _ms(started),
                                   unit.transactional, unit.outside_reason))
        if progress:
            progress(unit, "failed")
        return failure
    if not options.dry_run and changes_session(unit.file.text):
        reset_session(conn)
    steps.append(MigrationStep(unit.path, unit.checksum,
                               "dry_run" if options.dry_run else "applied", _ms(started),
                               unit.transactional, unit.outside_reason))
    if progress:
        progress(unit, "done")
    return None


def prepare(unit: Unit) -> tuple[list[Statement], Failure | None]:
    """The statements to send for ``unit``, or why none may be: a statement PostgreSQL's
    parser rejects, text the splitter cannot account for, or transaction control that
    would commit or discard part of the file. A refused file runs not at all."""
    text = unit.file.text
    parsed = split(text)
    if parsed.error is not None:
        error = parsed.error
        where = positions.location(text, error.offset)
        index = statement_at(parsed.statements, error.offset)
        statement = parsed.statements[index] if index is not None else Statement(0, 0, "")
        hint = ("Report this to calctl with the file." if error.uncovered else
                "Fix the syntax; `calctl migrate lint` lists every statement PostgreSQL rejects.")
        return [], Failure(
            kind="parse-error", path=unit.path, message=error.message, hint=hint,
            line=where.line, column=where.column, sqlstate="" if error.uncovered else "42601",
            statement=None if index is None else index + 1, statement_text=statement.text,
            source_line=positions.source_line(text, where.line))
    statements, problem = runnable(parsed)
    if problem is not None:
        statement = parsed.statements[problem.index]
        where = positions.location(text, statement.start)
        return [], Failure(
            kind="transaction-control", path=unit.path, message=problem.message,
            hint=problem.hint, line=where.line, column=where.column,
            statement=problem.index + 1, statement_text=statement.text,
            source_line=positions.source_line(text, where.line))
    return statements, None


def runnable_statements(text: str) -> list[Statement]:
    """The statements :func:`prepare` would send for a file it accepts: without a leading
    BEGIN and a trailing COMMIT (calctl owns the transaction)."""
    parsed = split(text)
    if parsed.error is not None:
        return parsed.statements
    return runnable(parsed)[0]


def _sql_failure(unit: Unit, statements: list[Statement], index: int,
                 exc: Exception) -> Failure:
    diag = getattr(exc, "diag", None)
    statement = statements[index] if statements else Statement(0, 0, "")
    text = unit.file.text
    position = _int(getattr(diag, "statement_position", None))
    where = positions.Location(1, 1)
    if position is not None:
        where = positions.server_position(text, statement.start, position)
    message = (getattr(diag, "message_primary", None) or _first_line(exc))
    if position is None:
        offset = positions.named_object(text, statement.start, statement.end, message)
        if offset is None:
            offset = positions.first_code(text, statement.start, statement.end)
        where = positions.location(text, offset)
    return Failure(
        kind="sql-error",
        path=unit.path,
        message=message,
        hint=getattr(diag, "message_hint", None) or "",
        line=where.line,
        column=where.column,
        sqlstate=getattr(exc, "sqlstate", None) or "",
        detail=getattr(diag, "message_detail", None) or "",
        context=getattr(diag, "context", None) or "",
        statement=index + 1,
        statement_text=statement.text,
        source_line=positions.source_line(text, where.line),
        partial=not unit.transactional and index > 0,
    )


def _changed_failure(changed: list[Unit], done: dict[str, Row]) -> Failure:
    first = changed[0]
    recorded = done[first.path].checksum
    return Failure(
        kind="checksum-changed",
        path=first.path,
        message=f"{first.path} was changed after it was applied (recorded sha256 "
        f"{recorded[:12]}…, now {first.checksum[:12]}…)"
        + (f"; {plural(len(changed) - 1, 'more changed file')}" if len(changed) > 1 else ""),
        hint="Restore the applied text and put the change in a new file, or accept the "
        "new text with --repair (it shows the difference first).",
        others=[u.path for u in changed[1:]],
    )


def _out_of_order(early: list[Unit], last_path: str) -> Failure:
    first = early[0]
    return Failure(
        kind="out-of-order",
        path=first.path,
        message=f"{first.path} is pending but comes before {last_path}, which is already "
        "applied" + (f"; {plural(len(early) - 1, 'more such file')}" if len(early) > 1 else ""),
        hint="Rename it to come after the applied files, or apply it anyway with "
        "--out-of-order.",
        others=[u.path for u in early[1:]],
    )


def _diff(old: str | None, unit: Unit) -> str:
    if old is None:
        return "(the applied text was not recorded; no difference to show)\n"
    new = _normalised(unit.file.raw)
    return "".join(difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"{unit.path} (applied)", tofile=f"{unit.path} (now)"))


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _int(value: object) -> int | None:
    try:
        return int(str(value)) if value is not None else None
    except ValueError:
        return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
