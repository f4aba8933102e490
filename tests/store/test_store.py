"""The same audit-store suite on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from calctl.config import Settings
from calctl.errors import ExitCode, ExternalError, StateError
from calctl.store import Store, open_store
from calctl.store.base import schema_dir

TABLES = ("guardian_bug_reports", "guardian_patch_applications", "calctl_events",
          "calctl_check_state", "calctl_check_results", "calctl_heal_runs", "calctl_fix_memory")


def settings_for(tmp_path: Path, database_url: str | None) -> Settings:
    (tmp_path / ".git").mkdir(exist_ok=True)
    flags = {"store_url": database_url} if database_url else {}
    return Settings.resolve(flags, cwd=tmp_path, env={})


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    opened = open_store(settings_for(tmp_path, url))
    try:
        yield opened
    finally:
        opened.close()


def test_schema_is_applied_once(store: Store, tmp_path: Path) -> None:
    for table in TABLES:
        assert store.query(f"SELECT COUNT(*) AS n FROM {table}")[0]["n"] == 0
    names = [r["name"] for r in store.query("SELECT name FROM calctl_schema_history")]
    assert names == sorted(p.name for p in schema_dir().glob("*.sql"))
    assert store.migrate() == []


def test_bug_reports_and_patches(store: Store) -> None:
    report_id = store.add_bug_report(error_message="relation \"users\" does not exist",
                                     service="app", file_path="db/011.sql", line_number=71,
                                     fingerprint="fp1", document={"kind": "bug-report"})
    store.set_diagnosis(report_id, diagnosis="misordered migration", suggested_fix="move it",
                        raw_response="{}")
    [row] = store.bug_reports()
    assert row["report_id"] == report_id
    assert row["status"] == "diagnosed" and row["line_number"] == 71

    store.add_patch_application(patch_id="p1", file_path="db/011.sql", status="applied",
                                success=True, description="move", report_id=report_id,
                                snapshot_id="s1")
    store.update_patch_application("p1", status="rolled_back", success=False, rolled_back=True,
                                   verify_output="tests failed", error="exit 1")
    [patch] = store.patch_applications()
    assert patch["status"] == "rolled_back"
    assert patch["rolled_back"] == 1 and patch["success"] == 0
    full = store.patch_application("p1")
    assert full is not None and full["verify_output"] == "tests failed"
    assert store.patch_application("nope") is None


def test_events_filter_by_time_and_type(store: Store) -> None:
    store.add_event("a", "2026-01-01T00:00:00+00:00", "guard.check.failed", "api", {"n": 1}, 1)
    store.add_event("b", "2026-01-02T00:00:00+00:00", "patch.applied", "p1", {}, 1)
    store.add_event("c", "2026-01-03T00:00:00+00:00", "patch.verified", "p1", {}, 2)
    assert [e.id for e in store.events()] == ["a", "b", "c"]
    assert [e.id for e in store.events(type_prefix="patch.")] == ["b", "c"]
    assert [e.id for e in store.events(since="2026-01-02T12:00:00+00:00")] == ["c"]
    assert store.events(type_prefix="guard")[0].data == {"n": 1}
    assert store.count_events() == 3


def test_check_state_counts_consecutive_failures(store: Store) -> None:
    assert store.record_check("api", ok=False, duration_ms=5, error="timeout") == 1
    assert store.record_check("api", ok=False, duration_ms=5, error="timeout") == 2
    state = store.check_state("api")
    assert state is not None and state["consecutive_failures"] == 2
    assert store.record_check("api", ok=True, duration_ms=3, error=None) == 0
    rows = store.query("SELECT status FROM calctl_check_results WHERE check_name = ?", ("api",))
    assert sorted(r["status"] for r in rows) == ["failed", "failed", "ok"]


def test_fix_memory(store: Store) -> None:
    assert store.recall_fix("fp") is None
    store.remember_fix("fp", {"kind": "patch", "edits": []}, "add IF NOT EXISTS")
    store.remember_fix("fp", {"kind": "patch", "edits": []}, "add IF NOT EXISTS")
    fix = store.recall_fix("fp")
    assert fix is not None and fix["successes"] == 2
    assert fix["patch"] == {"kind": "patch", "edits": []}


def test_transaction_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_event("x", "2026-01-01T00:00:00+00:00", "t", "", {}, None)
        raise RuntimeError("boom")
    assert store.count_events() == 0


def test_unreachable_database_names_host_port_and_masks_password(tmp_path: Path,
                                                                  calctl) -> None:
    url = "postgresql://calctl:hunter2@127.0.0.1:1/audit"
    with pytest.raises(ExternalError) as info:
        open_store(settings_for(tmp_path, url))
    assert "127.0.0.1:1" in info.value.message
    assert "hunter2" not in info.value.message
    result = calctl("--store-url", url, "history", cwd=tmp_path)
    assert result.returncode == ExitCode.EXTERNAL
    assert "127.0.0.1:1" in result.stderr and "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_state_dir_is_exit_3_with_path(tmp_path: Path, calctl) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StateError, match=str(blocker / "state")):
        open_store(Settings.resolve({"state_dir": str(blocker / "state")}, cwd=tmp_path, env={}))
    result = calctl("--state-dir", str(blocker / "state"), "history", cwd=tmp_path)
    assert result.returncode == ExitCode.STATE
    assert str(blocker / "state") in result.stderr


def test_corrupt_sqlite_store_is_state_error(tmp_path: Path, calctl) -> None:
    state = tmp_path / ".calctl"
    state.mkdir()
    (state / "calctl.db").write_bytes(b"this is not a database" * 100)
    result = calctl("--state-dir", str(state), "history", cwd=tmp_path)
    assert result.returncode == ExitCode.STATE
    assert "calctl.db" in result.stderr


def test_missing_database_is_external_error(pg_server_url: str, tmp_path: Path) -> None:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(pg_server_url)
    info["dbname"] = "no_such_database"
    with pytest.raises(ExternalError) as error:
        open_store(settings_for(tmp_path, make_conninfo(**info)))
    assert error.value.exit_code == ExitCode.EXTERNAL
    assert "no_such_database" in error.value.message


def _at_once(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(0)`` … ``work(count - 1)`` in threads; what they raised."""
    import threading

    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # returned to the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_first_runs_at_once_on_an_empty_postgres_store_both_succeed(pg_url: str,
                                                                     tmp_path: Path) -> None:
    """Two cron jobs starting together on a new PostgreSQL store: the one that waits for
    the schema lock finds the schema applied (neither fails on the history table)."""
    import threading

    start = threading.Barrier(4, timeout=30)  # (a failed run breaks it, not hangs)

    def first_run(i: int) -> None:
        root = tmp_path / f"run{i}"
        root.mkdir()
        start.wait()
        open_store(settings_for(root, pg_url)).close()

    assert _at_once(4, first_run) == []
    with open_store(settings_for(tmp_path, pg_url)) as store:
        names = [r["name"] for r in store.query("SELECT name FROM calctl_schema_history")]
    assert names == sorted(p.name for p in schema_dir().glob("*.sql"))


def test_hosts_recording_one_new_check_at_once_count_every_failure(pg_url: str,
                                                                   tmp_path: Path) -> None:
    """Hosts sharing a PostgreSQL store run the same check at once: each run's failure is
    counted once, and none fails on the state row the other made first."""
    import threading

    from calctl.guard import state

    hosts, rounds = 4, 5
    start = threading.Barrier(hosts, timeout=30)  # (a failed run breaks it, not hangs)

    def host(i: int) -> None:
        root = tmp_path / f"host{i}"
        root.mkdir()
        with open_store(settings_for(root, pg_url)) as store:
            for round_ in range(rounds):
                start.wait()
                state.record(store, f"api{round_}", ok=False, fail_after=hosts,
                             duration=0.01, error="timeout", finding=None, cursor=None)

    assert _at_once(hosts, host) == []
    with open_store(settings_for(tmp_path, pg_url)) as store:
        for round_ in range(rounds):
            row = store.check_state(f"api{round_}")
            assert row is not None
            assert (row["consecutive_failures"], row["unhealthy"]) == (hosts, 1)
            assert row["changed_at"] is not None
