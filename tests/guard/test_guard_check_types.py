"""Each check type against a real peer: a loopback HTTP server, a TCP listener, the
test PostgreSQL, migration directories, subprocesses, log files."""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support import pids_with


def _run(calctl: Any, root: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return calctl("guard", "once", "--json", *args, cwd=root, env=env)


def _check(result: Any, name: str) -> dict[str, Any]:
    document = result.json()
    assert document["kind"] == "guard-run", result.stderr
    return next(c for c in document["checks"] if c["name"] == name)


# ------------------------------------------------------------------ http


def test_http_healthy_and_unhealthy(calctl: Any, guard_project: Callable[..., Path],
                                    http_server: Any) -> None:
    http_server.add("GET", "/ok", body="all good: version 7")
    http_server.add("GET", "/down", status=503, body="maintenance")
    root = guard_project([
        {"name": "ok", "type": "http", "url": http_server.url + "/ok", "expect_body": r"v\w+ 7"},
        {"name": "down", "type": "http", "url": http_server.url + "/down"},
        {"name": "body", "type": "http", "url": http_server.url + "/ok", "expect_body": "nope"},
        {"name": "teapot", "type": "http", "url": http_server.url + "/down",
         "expect_status": [503]},
    ])
    result = _run(calctl, root)
    assert result.returncode == 1, result.stderr
    assert _check(result, "ok")["status"] == "healthy"
    assert _check(result, "teapot")["status"] == "healthy"
    down = _check(result, "down")
    assert down["status"] == "unhealthy" and "HTTP 503" in down["error"]
    assert down["finding"]["source"] == "http" and down["finding"]["data"]["status"] == 503
    assert "does not match 'nope'" in _check(result, "body")["error"]


def test_http_headers_come_from_the_environment(calctl: Any, guard_project: Callable[..., Path],
                                                http_server: Any) -> None:
    http_server.add("GET", "/private", body="ok")
    root = guard_project([{"name": "api", "type": "http", "url": http_server.url + "/private",
                           "headers": {"Authorization": "API_AUTH"}}])
    result = _run(calctl, root, env={"API_AUTH": "Bearer s3cret-value"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert http_server.requests[-1].headers["Authorization"] == "Bearer s3cret-value"
    assert "s3cret" not in (root / ".calctl" / "events.jsonl").read_text()
    missing = _run(calctl, root)
    assert missing.returncode == 1
    assert "environment variable API_AUTH is not set" in _check(missing, "api")["error"]


def test_http_timeout_is_the_checks_failure(calctl: Any, guard_project: Callable[..., Path],
                                            http_server: Any) -> None:
    http_server.add("GET", "/slow", body="late", delay=3)
    root = guard_project([{"name": "slow", "type": "http", "url": http_server.url + "/slow",
                           "timeout": 0.5}])
    result = _run(calctl, root)
    assert result.returncode == 1
    slow = _check(result, "slow")
    assert "did not answer within 0.5 s" in slow["error"]
    assert slow["duration"] < 2.5  # the server answers after 3 s


# ------------------------------------------------------------------ tcp


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def test_tcp(calctl: Any, guard_project: Callable[..., Path], listener: int) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()  # bound and released: nothing listens there now
    root = guard_project([{"name": "up", "type": "tcp", "port": listener},
                          {"name": "gone", "type": "tcp", "host": "127.0.0.1", "port": free}])
    result = _run(calctl, root)
    assert result.returncode == 1
    assert _check(result, "up")["status"] == "healthy"
    gone = _check(result, "gone")
    assert gone["status"] == "unhealthy" and f"127.0.0.1:{free}" in gone["error"]
    assert gone["finding"]["source"] == "tcp"


# ------------------------------------------------------------------ postgres


def test_postgres(calctl: Any, guard_project: Callable[..., Path], pg_url: str) -> None:
    root = guard_project([
        {"name": "db", "type": "postgres", "database_url_env": "APP_DB"},
        {"name": "bad-query", "type": "postgres", "database_url_env": "APP_DB",
         "query": "select * from no_such_table"},
        {"name": "no-env", "type": "postgres", "database_url_env": "UNSET_DB_URL"},
    ])
    result = _run(calctl, root, env={"APP_DB": pg_url})
    assert result.returncode == 1, result.stderr
    assert _check(result, "db")["status"] == "healthy"
    bad = _check(result, "bad-query")
    assert bad["status"] == "unhealthy" and "no_such_table" in bad["error"]
    assert bad["finding"]["sqlstate"] == "42P01"
    assert "UNSET_DB_URL is not set" in _check(result, "no-env")["error"]


# ------------------------------------------------------------------ migrations

MISNUMBERED = {
    "010_roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text);\n",
    "011_add_admin_roles.sql": "-- admins\n\nALTER TABLE roles ADD COLUMN admin boolean;\n"
                               "CREATE TABLE admin_roles (\n  role_id int REFERENCES roles (id),\n"
                               "  user_id int REFERENCES users (id)\n);\n",
    "012_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text);\n",
}


def test_migrations_out_of_order_names_file_line_and_creator(
        calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([{"name": "schema", "type": "migrations"}])
    for name, text in MISNUMBERED.items():
        (root / "migrations" / name).write_text(text, encoding="utf-8")
    result = _run(calctl, root)
    assert result.returncode == 1, result.stderr
    finding = _check(result, "schema")["finding"]
    assert finding["source"] == "migration"
    assert finding["file"] == "migrations/011_add_admin_roles.sql" and finding["line"] == 6
    # in PostgreSQL's words, as the rules provider's reorder fix reads a failed apply
    assert 'relation "users" does not exist' in finding["error"]
    assert finding["data"]["creator"] == "012_users.sql"
    assert finding["data"]["kind"] == "out-of-order" and finding["data"]["rule"] == "CAL001"


def test_migrations_status_against_postgres(calctl: Any, guard_project: Callable[..., Path],
                                            pg_url: str) -> None:
    root = guard_project([
        {"name": "warn", "type": "migrations", "database_url_env": "APP_DB"},
        {"name": "strict", "type": "migrations", "database_url_env": "APP_DB",
         "pending": "fail"},
    ])
    (root / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    env = {"APP_DB": pg_url}
    pending = _run(calctl, root, env=env)
    assert pending.returncode == 1
    assert _check(pending, "warn")["status"] == "healthy"
    assert _check(pending, "warn")["detail"]["pending"] == 1
    strict = _check(pending, "strict")
    assert strict["status"] == "unhealthy" and strict["finding"]["file"] == "migrations/001_a.sql"

    applied = calctl("migrate", "apply", "--database-url", pg_url, cwd=root)
    assert applied.returncode == 0, applied.stderr
    assert _run(calctl, root, env=env).returncode == 0

    (root / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id bigint);\n")
    changed = _run(calctl, root, env=env)
    assert changed.returncode == 1
    finding = _check(changed, "warn")["finding"]
    assert "changed after it was applied" in finding["error"]
    assert finding["data"]["kind"] == "checksum-changed"


# ------------------------------------------------------------------ command

FAILING_TEST = """\
def add(a, b):
    return a + b + 1


def test_add():
    assert add(1, 2) == 3
"""


def test_command_failure_points_at_the_file_and_line(
        calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([{"name": "tests", "type": "command",
                           "run": [sys.executable, "-m", "pytest", "-q", "-p",
                                   "no:cacheprovider", "test_calc.py"], "timeout": 60}])
    (root / "test_calc.py").write_text(FAILING_TEST, encoding="utf-8")
    result = _run(calctl, root)
    assert result.returncode == 1, result.stderr
    check = _check(result, "tests")
    finding = check["finding"]
    assert finding["source"] == "command"
    assert finding["file"] == "test_calc.py" and finding["line"] == 6
    assert "assert 4 == 3" in finding["data"]["output_tail"]
    assert "exited 1" in finding["error"]


def test_command_traceback_and_expect_exit(calctl: Any,
                                           guard_project: Callable[..., Path]) -> None:
    (script := guard_project([])).joinpath("app.py").write_text(
        "import sys\n\ndef main():\n    raise ValueError('bad config')\n\nmain()\n")
    root = guard_project([
        {"name": "crash", "type": "command", "run": f"{sys.executable} app.py"},
        {"name": "exit3", "type": "command", "run": ["sh", "-c", "exit 3"], "expect_exit": 3},
    ])
    assert script == root
    result = _run(calctl, root)
    crash = _check(result, "crash")["finding"]
    assert crash["file"] == "app.py" and crash["line"] == 4
    assert "ValueError: bad config" in crash["error"]
    assert "Traceback" in crash["traceback"]
    assert _check(result, "exit3")["status"] == "healthy"


def test_command_timeout_ends_the_whole_tree(calctl: Any, guard_project: Callable[..., Path],
                                             tmp_path: Path) -> None:
    mark = f"guard-tree-{os.getpid()}-{time.monotonic_ns()}"
    # a child in the session, and a grandchild that leaves it with setsid
    sleeper = f"{sys.executable} -c 'import time; time.sleep(300)' {mark}"
    script = f"{sleeper} & setsid {sleeper} & echo started; {sleeper}"
    root = guard_project([{"name": "hang", "type": "command", "run": ["sh", "-c", script],
                           "timeout": 1}])
    started = time.monotonic()
    result = _run(calctl, root)
    assert time.monotonic() - started < 20
    hang = _check(result, "hang")
    assert hang["status"] == "unhealthy" and "did not finish within 1 s" in hang["error"]
    assert hang["finding"]["data"]["timed_out"] is True
    deadline = time.monotonic() + 5
    while pids_with(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pids_with(mark) == []


# ------------------------------------------------------------------ log

TRACEBACK = """\
Traceback (most recent call last):
  File "{root}/app.py", line 12, in handler
    total = compute(order)
ZeroDivisionError: division by zero
"""


def test_log_reads_only_new_lines(calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([{"name": "log", "type": "log", "path": "app.log"}])
    log = root / "app.log"
    log.write_text("ERROR old news, before the first run\n")
    first = _run(calctl, root)
    assert first.returncode == 0, first.stdout  # the first run only notes the end
    with log.open("a") as handle:
        handle.write("INFO request\n" + TRACEBACK.format(root=root) + "INFO next\n")
    second = _run(calctl, root)
    assert second.returncode == 1
    finding = _check(second, "log")["finding"]
    assert finding["source"] == "log"
    assert "ZeroDivisionError: division by zero" in finding["error"]
    assert finding["file"] == "app.py" and finding["line"] == 12
    assert finding["traceback"].startswith("Traceback") and "ZeroDivision" in finding["traceback"]
    third = _run(calctl, root)
    assert third.returncode == 0  # nothing new since
    assert _check(third, "log")["transition"] == "recovered"


def test_log_rotation_truncation_and_partial_lines(calctl: Any,
                                                   guard_project: Callable[..., Path]) -> None:
    root = guard_project([{"name": "log", "type": "log", "path": "app.log",
                           "pattern": "FATAL"}])
    log = root / "app.log"
    log.write_text("x" * 5000 + "\n")
    assert _run(calctl, root).returncode == 0
    # rotated: the old file moves away, a new one (new inode) holds the error
    log.rename(root / "app.log.1")
    log.write_text("FATAL after rotation\n")
    rotated = _run(calctl, root)
    assert rotated.returncode == 1
    assert "FATAL after rotation" in _check(rotated, "log")["error"]
    assert _check(rotated, "log")["detail"]["reset"] == "rotated"
    assert _run(calctl, root).returncode == 0
    # truncated in place (copytruncate): shorter than the offset, read from the start
    log.write_text("FATAL after truncation\n")
    truncated = _run(calctl, root)
    assert truncated.returncode == 1
    assert _check(truncated, "log")["detail"]["reset"] == "truncated"
    # a line still being written waits for its end
    with log.open("a") as handle:
        handle.write("FATAL half a li")
    assert _run(calctl, root).returncode == 0
    with log.open("a") as handle:
        handle.write("ne\n")
    whole = _run(calctl, root)
    assert whole.returncode == 1 and "FATAL half a line" in _check(whole, "log")["error"]


def test_a_lone_check_that_hangs_is_abandoned(calctl: Any, guard_project: Callable[..., Path],
                                              listener: int) -> None:
    # one check runs without an event loop; a server that accepts and never speaks
    # PostgreSQL holds the connection until the check's own time runs out
    root = guard_project([{"name": "mute", "type": "postgres", "database_url_env": "APP_DB",
                           "timeout": 1}])
    result = _run(calctl, root, env={"APP_DB": f"postgresql://u@127.0.0.1:{listener}/db"})
    assert result.returncode == 1, result.stderr
    mute = _check(result, "mute")
    assert mute["status"] == "unhealthy" and mute["duration"] < 5


def test_secrets_a_peer_echoes_are_not_recorded(calctl: Any, guard_project: Callable[..., Path],
                                                http_server: Any) -> None:
    http_server.add("GET", "/echo", status=500, body="rejected token Bearer s3cret-value")
    root = guard_project([{"name": "api", "type": "http", "url": http_server.url + "/echo",
                           "headers": {"Authorization": "API_AUTH"}}])
    result = _run(calctl, root, env={"API_AUTH": "Bearer s3cret-value"})
    assert result.returncode == 1
    assert "rejected token ***" in _check(result, "api")["finding"]["data"]["body"]
    assert "s3cret" not in result.stdout + result.stderr
    assert "s3cret" not in (root / ".calctl" / "events.jsonl").read_text()
    for store in (root / ".calctl").glob("calctl.db*"):  # the database and its WAL
        assert b"s3cret" not in store.read_bytes()
