"""``calctl guard once`` as cron runs it: concurrency, timeouts, fail_after across runs,
events on transitions, the lock, -q, --check, --json, webhook, prometheus."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calctl.documents import GuardRun, load_document

# healthy while the file "broken" does not exist in the project
TOGGLE = {"name": "toggle", "type": "command", "run": ["sh", "-c", "test ! -e broken"]}


def _sleeper(name: str, seconds: float, *, code: int = 0) -> dict[str, Any]:
    return {"name": name, "type": "command", "timeout": 30,
            "run": [sys.executable, "-c", f"import time,sys; time.sleep({seconds}); "
                    f"sys.exit({code})"]}


def _events(root: Path) -> list[dict[str, Any]]:
    path = root / ".calctl" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _types(root: Path) -> list[str]:
    return [e["type"] for e in _events(root)]


def test_checks_run_concurrently(calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([_sleeper(f"s{i}", 1.5) for i in range(4)])
    result = calctl("guard", "once", "--json", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    run = result.json()
    assert [c["status"] for c in run["checks"]] == ["healthy"] * 4
    assert all(c["duration"] >= 1.5 for c in run["checks"])
    assert run["duration"] < 4.5  # about the slowest (1.5 s), not the sum (6 s)


def test_a_hanging_check_fails_alone(calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([{**_sleeper("hang", 60), "timeout": 1}, _sleeper("quick", 0.1)])
    result = calctl("guard", "once", "--json", cwd=root)
    assert result.returncode == 1
    checks = {c["name"]: c for c in result.json()["checks"]}
    assert checks["quick"]["status"] == "healthy"
    assert checks["hang"]["status"] == "unhealthy"
    assert "did not finish within 1 s" in checks["hang"]["error"]
    assert checks["hang"]["duration"] < 10


def test_fail_after_counts_across_runs_and_transitions_are_told_once(
        calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([{**TOGGLE, "fail_after": 2}])
    (root / "broken").touch()
    first = calctl("guard", "once", "--json", cwd=root)
    assert first.returncode == 0  # one failure of two allowed: recorded, not unhealthy
    check = first.json()["checks"][0]
    assert (check["status"], check["consecutive_failures"], check["finding"]) == \
        ("failing", 1, None)
    second = calctl("guard", "once", "--json", cwd=root)
    assert second.returncode == 1
    check = second.json()["checks"][0]
    assert (check["status"], check["transition"]) == ("unhealthy", "failed")
    assert check["finding"]["check"] == "toggle"
    assert calctl("guard", "once", cwd=root).returncode == 1  # still unhealthy: no new event
    (root / "broken").unlink()
    recovered = calctl("guard", "once", "--json", cwd=root)
    assert recovered.returncode == 0
    assert recovered.json()["checks"][0]["transition"] == "recovered"
    assert calctl("guard", "once", cwd=root).returncode == 0
    assert _types(root) == ["guard.run", "guard.check.failed", "guard.run", "guard.run",
                            "guard.check.recovered", "guard.run", "guard.run"]
    failed = next(e for e in _events(root) if e["type"] == "guard.check.failed")
    assert failed["subject"] == "toggle" and failed["data"]["consecutive_failures"] == 2
    history = calctl("events", "--type", "guard.check", cwd=root)
    assert "guard.check.failed toggle" in history.stdout


def test_the_lock_keeps_overlapping_runs_apart(calctl_argv: list[str],
                                               guard_project: Callable[..., Path]) -> None:
    root = guard_project([_sleeper("slow", 3)])
    argv = [*calctl_argv, "guard", "once", "-q"]
    first = subprocess.Popen(argv, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lock = root / ".calctl" / "locks" / "guard.lock"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (lock.exists() and lock.read_text()):
        time.sleep(0.05)
    second = subprocess.run(argv, cwd=root, capture_output=True, timeout=60)
    assert second.returncode == 3
    assert second.stdout == b"" and second.stderr == b""  # cron mails nothing
    loud = subprocess.run([*calctl_argv, "guard", "once"], cwd=root, capture_output=True,
                          timeout=60)
    assert loud.returncode == 3 and b"guard once is locked by process" in loud.stderr
    waited = subprocess.run([*argv, "--wait", "30"], cwd=root, capture_output=True, timeout=60)
    assert waited.returncode == 0, waited.stderr
    _, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert _types(root).count("guard.run") == 2  # the first and the one that waited


def test_quiet_prints_nothing_when_healthy(calctl: Any,
                                          guard_project: Callable[..., Path]) -> None:
    root = guard_project([TOGGLE])
    quiet = calctl("guard", "once", "-q", cwd=root)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    also = calctl("-q", "guard", "once", cwd=root)
    assert (also.returncode, also.stdout, also.stderr) == (0, "", "")
    loud = calctl("guard", "once", cwd=root)
    assert loud.stdout.startswith("guard: 1 check, healthy")
    (root / "broken").touch()
    failing = calctl("guard", "once", "-q", cwd=root)
    assert failing.returncode == 1
    assert "toggle: UNHEALTHY" in failing.stdout and "1 unhealthy" in failing.stdout


def test_check_option_runs_one(calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([TOGGLE, _sleeper("other", 0, code=1)])
    one = calctl("guard", "once", "--check", "toggle", "--json", cwd=root)
    assert one.returncode == 0
    assert [c["name"] for c in one.json()["checks"]] == ["toggle"]
    unknown = calctl("guard", "once", "--check", "nope", cwd=root)
    assert unknown.returncode == 2 and "no check has that name" in unknown.stderr
    assert "toggle, other" in unknown.stderr


def test_json_round_trips_and_pipes_into_documents(calctl: Any,
                                                   guard_project: Callable[..., Path]) -> None:
    root = guard_project([TOGGLE, _sleeper("bad", 0, code=2)])
    result = calctl("guard", "once", "--json", cwd=root)
    assert result.returncode == 1
    document = load_document(result.stdout)
    assert isinstance(document, GuardRun) and not document.healthy
    assert document.to_dict() == result.json()
    assert [f.check for f in document.findings] == ["bad"]
    assert GuardRun.from_dict(document.to_dict()) == document


def test_heal_with_everything_healthy_heals_nothing(calctl: Any,
                                                   guard_project: Callable[..., Path]) -> None:
    # (with the heal/ package merged the healer is there; tests/heal/ covers healing)
    root = guard_project([TOGGLE])
    result = calctl("guard", "once", "--heal", "--json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.json()["healthy"] is True and result.json()["heal"] == []


def test_webhook_on_transitions(calctl: Any, guard_project: Callable[..., Path],
                                http_server: Any) -> None:
    http_server.add("POST", "/hook", status=500)  # the first delivery fails: retried
    http_server.add("POST", "/hook", status=204)
    root = guard_project([TOGGLE], guard={"notify_url": http_server.url + "/hook"})
    assert calctl("guard", "once", cwd=root).returncode == 0
    assert http_server.requests == []  # healthy from the start: no transition
    (root / "broken").touch()
    assert calctl("guard", "once", cwd=root).returncode == 1
    notices = [r.json() for r in http_server.requests]
    assert len(notices) == 2 and notices[0] == notices[1]
    assert notices[0]["type"] == "guard.check.failed" and notices[0]["check"] == "toggle"
    (root / "broken").unlink()
    assert calctl("guard", "once", cwd=root).returncode == 0
    assert http_server.requests[-1].json()["type"] == "guard.check.recovered"


def test_a_dead_webhook_never_holds_the_run(calctl: Any,
                                            guard_project: Callable[..., Path]) -> None:
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    root = guard_project([TOGGLE], guard={"notify_url": f"http://127.0.0.1:{port}/hook"})
    (root / "broken").touch()
    started = time.monotonic()
    result = calctl("guard", "once", cwd=root)
    assert result.returncode == 1
    assert "not delivered" in result.stderr
    assert time.monotonic() - started < 15


def test_prometheus_textfile(calctl: Any, guard_project: Callable[..., Path],
                             tmp_path: Path) -> None:
    root = guard_project([TOGGLE, _sleeper("down", 0, code=1)])
    metrics = tmp_path / "textfile" / "calctl.prom"
    metrics.parent.mkdir()
    result = calctl("guard", "once", "--prometheus", str(metrics), cwd=root)
    assert result.returncode == 1
    text = metrics.read_text()
    assert 'calctl_check_up{check="toggle"} 1.0' in text
    assert 'calctl_check_up{check="down"} 0.0' in text
    assert 'calctl_check_duration_seconds{check="down"}' in text
    assert 'calctl_heal_total{result="verified"} 0.0' in text
    assert "_created" not in text
    assert [p.name for p in metrics.parent.iterdir()] == ["calctl.prom"]  # renamed into place


def test_state_in_a_postgresql_store(calctl: Any, guard_project: Callable[..., Path],
                                     pg_url: str) -> None:
    root = guard_project([{**TOGGLE, "fail_after": 2}])
    (root / "broken").touch()
    store = ("--store-url", pg_url)
    assert calctl(*store, "guard", "once", cwd=root).returncode == 0
    second = calctl(*store, "guard", "once", "--json", cwd=root)
    assert second.returncode == 1
    assert second.json()["checks"][0]["transition"] == "failed"
    (root / "broken").unlink()
    third = calctl(*store, "guard", "once", "--json", cwd=root)
    assert third.json()["checks"][0]["transition"] == "recovered"
    import psycopg

    with psycopg.connect(pg_url) as conn:
        state = conn.execute("SELECT consecutive_failures, unhealthy, changed_at, last_status"
                             " FROM calctl_check_state WHERE check_name = 'toggle'").fetchone()
        results = conn.execute("SELECT status FROM calctl_check_results"
                               " WHERE check_name = 'toggle' ORDER BY ran_at").fetchall()
    assert state is not None and state[:2] == (0, 0) and state[2] and state[3] == "ok"
    assert [r[0] for r in results] == ["failing", "unhealthy", "ok"]
    stats = calctl(*store, "stats", "--json", cwd=root)
    assert stats.returncode == 0 and stats.json()["runs"] == 0


def test_guard_run_pipes_into_report(calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([TOGGLE, {"name": "crash", "type": "command",
                                   "run": [sys.executable, "app.py"]}])
    (root / "app.py").write_text("def main():\n    raise KeyError('price')\n\nmain()\n")
    run = calctl("guard", "once", "--json", cwd=root)
    assert run.returncode == 1
    report = calctl("report", "-", "--dry-run", "--json", cwd=root, input=run.stdout)
    assert report.returncode == 0, report.stderr
    bug = json.loads(report.stdout)  # the first unhealthy check's finding, reported
    assert bug["kind"] == "bug-report" and bug["error_type"] == "KeyError"
    assert (bug["file"], bug["line"]) == ("app.py", 2)
