"""The audit store interface, and the queries both backends share.

A backend supplies four primitives (``execute``, ``query``, ``transaction``,
``schema_lock``) taking SQL with ``?`` placeholders; everything else — the
schema, the record methods — is written once here in portable SQL.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calctl.errors import StateError
from calctl.ids import new_id, now_iso


def schema_dir() -> Path:
    """calctl's own migrations: inside the wheel, or the repository's ``migrations/``.

    Found beside the package on disk rather than through importlib.resources, whose
    import is a tenth of a cron ``guard once`` (calctl is never run from a zip)."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "_migrations"
    if packaged.is_dir():
        return packaged
    return package.parents[1] / "migrations"


@dataclass(frozen=True)
class StoredEvent:
    id: str
    ts: str
    type: str
    subject: str
    data: dict[str, Any]
    pid: int | None


# INTEGER columns are 32-bit in PostgreSQL (and SQLite overflows past 64 bits).
INT_COLUMN_MIN, INT_COLUMN_MAX = -(2**31), 2**31 - 1


def _int_column(value: int | None, column: str) -> int | None:
    """Refuse, before the database does, an integer its INTEGER column cannot hold: the
    driver's OverflowError would otherwise end the command as a bug (exit 70)."""
    if value is not None and not INT_COLUMN_MIN <= value <= INT_COLUMN_MAX:
        from calctl.errors import UsageError

        digits = str(value)
        raise UsageError(f"{column} {digits[:24]}{'…' if len(digits) > 24 else ''} is out of "
                         f"range for the audit store (at most {INT_COLUMN_MAX})")
    return value


class Store(ABC):
    """Audit trail: bug reports, patch applications, events, checks, heal runs, fixes."""

    backend: str = ""
    # Appended to a SELECT inside a transaction, keeps the rows read locked until it ends
    # (SQLite's BEGIN IMMEDIATE already holds the whole database).
    row_lock: str = ""

    # ------------------------------------------------------------ primitives

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement (``?`` placeholders)."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run one statement and return its rows as dicts."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together or not at all."""

    @abstractmethod
    def schema_lock(self) -> AbstractContextManager[None]:
        """Keeps two processes from migrating the store at once."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ schema

    def migrate(self) -> list[str]:
        """Apply calctl's own pending migrations; returns the names applied."""
        from calctl.store import schema as runner

        files = runner.read_sql_files(schema_dir())
        # The look without the lock writes nothing: two first runs on an empty PostgreSQL
        # store would otherwise both CREATE the history table, and one fail on its type.
        try:
            todo = runner.pending(self, files, create=False)
        except StateError as exc:
            if exc.code == "checksum-mismatch":
                raise
            todo = files  # no history table yet: created below, under the lock
        if not todo:
            return []
        with self.schema_lock():
            return runner.apply_files(self, files)

    # ------------------------------------------------------------ events

    def add_event(self, event_id: str, ts: str, type_: str, subject: str,
                  data: dict[str, Any], pid: int | None) -> None:
        self.execute(
            "INSERT INTO calctl_events (id, ts, type, subject, data, pid)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, ts, type_, subject, json.dumps(data, default=str), pid),
        )

    def events(self, *, since: str | None = None, type_prefix: str | None = None,
               limit: int = 1000) -> list[StoredEvent]:
        where: list[str] = []
        params: list[Any] = []
        if since:
            where.append("ts >= ?")
            params.append(since)
        if type_prefix:
            where.append("substr(type, 1, ?) = ?")
            params.extend([len(type_prefix), type_prefix])
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = self.query(
            f"SELECT id, ts, type, subject, data, pid FROM calctl_events{clause}"
            " ORDER BY ts DESC, id DESC LIMIT ?",
            (*params, limit),
        )
        return [
            StoredEvent(r["id"], r["ts"], r["type"], r["subject"], json.loads(r["data"]), r["pid"])
            for r in reversed(rows)
        ]

    def count_events(self) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM calctl_events")[0]["n"])

    # ------------------------------------------------------------ bug reports

    def add_bug_report(self, *, error_message: str, service: str = "", file_path: str | None = None,
                       line_number: int | None = None, snippet: str | None = None,
                       stack_trace: str | None = None, fingerprint: str | None = None,
                       document: dict[str, Any] | None = None,
                       report_id: str | None = None) -> str:
        report_id = report_id or new_id()
        line_number = _int_column(line_number, "line_number")
        self.execute(
            "INSERT INTO guardian_bug_reports (report_id, service, error_message, file_path,"
            " line_number, snippet, stack_trace, status, created_at, fingerprint, document)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 'reported', ?, ?, ?)",
            (report_id, service, error_message, file_path, line_number, snippet, stack_trace,
             now_iso(), fingerprint, json.dumps(document) if document else None),
        )
        return report_id

    def set_diagnosis(self, report_id: str, *, diagnosis: str, suggested_fix: str | None,
                      raw_response: str | None, status: str = "diagnosed") -> None:
        self.execute(
            "UPDATE guardian_bug_reports SET diagnosis = ?, suggested_fix = ?, raw_response = ?,"
            " status = ? WHERE report_id = ?",
            (diagnosis, suggested_fix, raw_response, status, report_id),
        )

    def set_report_status(self, report_id: str, status: str) -> None:
        self.execute("UPDATE guardian_bug_reports SET status = ? WHERE report_id = ?",
                     (status, report_id))

    def bug_reports(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.query(
            "SELECT report_id, service, error_message, file_path, line_number, status,"
            " created_at, fingerprint, diagnosis FROM guardian_bug_reports"
            " ORDER BY created_at DESC LIMIT ?",
            (limit,),
        )

    # ------------------------------------------------------------ patches

    def add_patch_application(self, *, patch_id: str, file_path: str, status: str,
                              success: bool, description: str = "",
                              line_number: int | None = None, snapshot_id: str | None = None,
                              report_id: str | None = None, source: str = "manual",
                              document: dict[str, Any] | None = None) -> None:
        line_number = _int_column(line_number, "line_number")
        self.execute(
            "INSERT INTO guardian_patch_applications (patch_id, file_path, line_number,"
            " description, snapshot_id, rolled_back, success, applied_at, source, report_id,"
            " status, document) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
            (patch_id, file_path, line_number, description, snapshot_id, int(success),
             now_iso(), source, report_id, status, json.dumps(document) if document else None),
        )

    def update_patch_application(self, patch_id: str, *, status: str,
                                 success: bool | None = None, rolled_back: bool | None = None,
                                 verify_output: str | None = None,
                                 verified: bool = False, error: str | None = None) -> None:
        sets: list[str] = ["status = ?"]
        params: list[Any] = [status]
        if success is not None:
            sets.append("success = ?")
            params.append(int(success))
        if rolled_back is not None:
            sets.append("rolled_back = ?")
            params.append(int(rolled_back))
        if verify_output is not None:
            sets.append("verify_output = ?")
            params.append(verify_output)
        if verified:
            sets.append("verified_at = ?")
            params.append(now_iso())
        if error is not None:
            sets.append("verification_error = ?")
            params.append(error)
        self.execute(
            f"UPDATE guardian_patch_applications SET {', '.join(sets)} WHERE patch_id = ?",
            (*params, patch_id),
        )

    def patch_applications(self, limit: int = 50) -> list[dict[str, Any]]:
        return self.query(
            "SELECT patch_id, file_path, description, status, success, rolled_back,"
            " snapshot_id, report_id, applied_at, verified_at FROM guardian_patch_applications"
            " ORDER BY applied_at DESC LIMIT ?",
            (limit,),
        )

    def patch_application(self, patch_id: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM guardian_patch_applications WHERE patch_id = ?",
                          (patch_id,))
        return rows[0] if rows else None

    # ------------------------------------------------------------ checks

    def check_state(self, name: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM calctl_check_state WHERE check_name = ?", (name,))
        return rows[0] if rows else None

    def claim_check_state(self, name: str) -> dict[str, Any]:
        """Check ``name``'s state row, made if missing, locked until the transaction ends.

        Two hosts sharing a store may run the same check at once: making the row first and
        reading it locked means neither inserts it twice nor loses the other's count."""
        self.execute("INSERT INTO calctl_check_state (check_name) VALUES (?)"
                     " ON CONFLICT (check_name) DO NOTHING", (name,))
        return self.query("SELECT * FROM calctl_check_state WHERE check_name = ?"
                          + self.row_lock, (name,))[0]

    def record_check(self, name: str, *, ok: bool, duration_ms: int, error: str | None,
                     finding: dict[str, Any] | None = None) -> int:
        """Record one check run; returns the consecutive failure count after it."""
        now = now_iso()
        with self.transaction():
            state = self.claim_check_state(name)
            failures = 0 if ok else int(state["consecutive_failures"]) + 1
            status = "ok" if ok else "failed"
            self.execute(
                "UPDATE calctl_check_state SET consecutive_failures = ?, last_status = ?,"
                " last_error = ?, last_run_at = ?, last_ok_at = COALESCE(?, last_ok_at)"
                " WHERE check_name = ?",
                (failures, status, error, now, now if ok else None, name),
            )
            self.execute(
                "INSERT INTO calctl_check_results (id, check_name, status, duration_ms, error,"
                " finding, ran_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (new_id(), name, status, duration_ms, error,
                 json.dumps(finding) if finding else None, now),
            )
        return failures

    # ------------------------------------------------------------ fix memory

    def remember_fix(self, fingerprint: str, patch: dict[str, Any], description: str) -> None:
        now = now_iso()
        with self.transaction():
            if self.recall_fix(fingerprint) is None:
                self.execute(
                    "INSERT INTO calctl_fix_memory (fingerprint, patch, description, learned_at)"
                    " VALUES (?, ?, ?, ?)",
                    (fingerprint, json.dumps(patch), description, now),
                )
            else:
                self.execute(
                    "UPDATE calctl_fix_memory SET patch = ?, description = ?,"
                    " successes = successes + 1, last_used_at = ? WHERE fingerprint = ?",
                    (json.dumps(patch), description, now, fingerprint),
                )

    def recall_fix(self, fingerprint: str) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM calctl_fix_memory WHERE fingerprint = ?", (fingerprint,))
        if not rows:
            return None
        row = dict(rows[0])
        row["patch"] = json.loads(row["patch"])
        return row
