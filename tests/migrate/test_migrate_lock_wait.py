"""A second ``migrate apply`` says whom it waits for (two real appliers, real PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from pgmig import history, query, spawn, wait_for, write


def _backend_of(url: str, client_pid: int) -> int | None:
    """The server pid of the applier whose process is ``client_pid`` while it sleeps."""
    rows = query(url, "SELECT pid FROM pg_stat_activity WHERE application_name = %s"
                 " AND query LIKE '%%pg_sleep%%' AND state = 'active'",
                 (f"calctl migrate apply (pid {client_pid})",))
    return int(rows[0][0]) if rows else None


def test_a_waiting_applier_names_the_holder(project: Path, pg_url: str) -> None:
    write(project, "001_slow.sql", "SELECT pg_sleep(8);\nCREATE TABLE slow (id int);\n")
    first = spawn("migrate", "apply", cwd=project, url=pg_url)
    try:
        wait_for(lambda: _backend_of(pg_url, first.pid) is not None,
                 what="the first applier to hold the lock")
        holder = _backend_of(pg_url, first.pid)
        second = spawn("migrate", "apply", cwd=project, url=pg_url)
        quiet = spawn("migrate", "apply", "-q", cwd=project, url=pg_url)
        out, err = second.communicate(timeout=60)
        quiet_out, quiet_err = quiet.communicate(timeout=60)
    finally:
        first.communicate(timeout=60)
    assert first.returncode == 0
    assert second.returncode == 0, err
    assert "calctl: waiting up to 60 s for the migration lock of " in err
    assert f"held by pid {holder} (calctl migrate apply (pid {first.pid}), user " in err
    assert "nothing to apply: 1 file already applied" in out  # and then it went on
    assert (quiet.returncode, quiet_out, quiet_err) == (0, "", "")  # -q: nothing to report
    assert history(pg_url) == ["001_slow.sql"]
