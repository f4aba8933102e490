"""Two appliers at once, and an applier killed mid-file (real processes, real PostgreSQL)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pgmig import exists, history, query, spawn, wait_for, write


def _running_sleep(url: str) -> bool:
    rows = query(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE"
                 " 'calctl migrate apply%%' AND query LIKE '%%pg_sleep%%' AND state = 'active'")
    return bool(rows[0][0] > 0)


def test_second_applier_waits_then_finds_nothing_to_do(project: Path, pg_url: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    write(project, "002_slow.sql", "SELECT pg_sleep(1.5);\nCREATE TABLE slow (id int);\n")
    procs = [spawn("migrate", "apply", "--json", cwd=project, url=pg_url) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    codes = [p.returncode for p in procs]
    assert codes == [0, 0], outputs
    import json

    applied = sorted(len(json.loads(out)["steps"]) for out, _ in outputs)
    assert applied == [0, 2], "one applied both files, the other waited and found none pending"
    assert history(pg_url) == ["001_a.sql", "002_slow.sql"]


def test_second_applier_gives_up_naming_the_holder(project: Path, pg_url: str) -> None:
    write(project, "001_slow.sql", "SELECT pg_sleep(4);\nCREATE TABLE slow (id int);\n")
    first = spawn("migrate", "apply", cwd=project, url=pg_url)
    try:
        wait_for(lambda: _running_sleep(pg_url), what="the first applier to hold the lock")
        second = spawn("migrate", "apply", "--lock-timeout", "0.5", "--json", cwd=project,
                       url=pg_url)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 3, (out, err)
        assert "locked by pid" in err
        assert "calctl migrate apply (pid " in err  # the holder's application_name
        assert "connected since" in err and "in a transaction since" in err
        import json

        assert json.loads(out)["kind"] == "error"
    finally:
        first.communicate(timeout=60)
    assert first.returncode == 0
    assert history(pg_url) == ["001_slow.sql"], "applied exactly once"


def test_two_appliers_started_together_never_both_apply(project: Path, pg_url: str) -> None:
    write(project, "001_slow.sql", "SELECT pg_sleep(3);\nCREATE TABLE slow (id int);\n")
    procs = [spawn("migrate", "apply", "--lock-timeout", "1", cwd=project, url=pg_url)
             for _ in range(2)]
    for p in procs:
        p.communicate(timeout=60)
    assert sorted(p.returncode for p in procs) == [0, 3]
    assert history(pg_url) == ["001_slow.sql"]


def test_kill_9_mid_file_leaves_no_trace_of_that_file(project: Path, pg_url: str) -> None:
    write(project, "001_base.sql", "CREATE TABLE base (id int);\n")
    write(project, "002_long.sql",
          "CREATE TABLE long_t (id int);\n"
          "INSERT INTO long_t SELECT generate_series(1, 1000);\n"
          "INSERT INTO base VALUES (42);\n"
          "SELECT pg_sleep(30);\n"
          "CREATE TABLE long_after (id int);\n")
    write(project, "003_later.sql", "CREATE TABLE later (id int);\n")
    proc = spawn("migrate", "apply", cwd=project, url=pg_url)
    try:
        wait_for(lambda: _running_sleep(pg_url), what="the long file to be running")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
    # The server notices the dead client (client_connection_check_interval) and rolls back.
    wait_for(lambda: query(pg_url, "SELECT count(*) FROM pg_stat_activity"
                           " WHERE application_name LIKE 'calctl migrate apply%%'")[0][0] == 0,
             timeout=20, what="the killed applier's session to end")
    assert history(pg_url) == ["001_base.sql"]
    assert exists(pg_url, "base")
    assert query(pg_url, "SELECT count(*) FROM base") == [(0,)]
    assert not exists(pg_url, "long_t") and not exists(pg_url, "long_after")
    assert not exists(pg_url, "later")
    # and the advisory lock died with the session: the next applier is not kept waiting
    rows = query(pg_url, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    assert rows == [(0,)]
