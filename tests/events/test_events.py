"""events.jsonl + calctl_events: concurrent appends, reading, following, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from calctl.config import Settings
from calctl.events.log import EventLog, follow, read_events
from calctl.store import open_store

WRITER = """
import sys
from pathlib import Path
from calctl.config import Settings
from calctl.events.log import EventLog
from calctl.store import open_store
root, url, tag = Path(sys.argv[1]), sys.argv[2] or None, sys.argv[3]
settings = Settings.resolve({"store_url": url} if url else {}, cwd=root, env={})
store = open_store(settings)
log = EventLog(settings.state_dir / "events.jsonl", store)
for i in range(1000):
    log.emit("test.append", tag, {"i": i, "pad": "x" * (i % 300)})
log.close(); store.close()
"""


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_processes_append_1000_each(tmp_path: Path, backend: str,
                                        request: pytest.FixtureRequest) -> None:
    (tmp_path / ".git").mkdir()
    url = request.getfixturevalue("pg_url") if backend == "postgres" else ""
    # create the store first so both writers only append
    settings = Settings.resolve({"store_url": url} if url else {}, cwd=tmp_path, env={})
    open_store(settings).close()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), url, tag])
               for tag in ("a", "b")]
    assert [w.wait(timeout=240) for w in writers] == [0, 0]

    lines = (tmp_path / ".calctl" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2000
    parsed = [json.loads(line) for line in lines]  # every line intact
    for tag in ("a", "b"):
        assert sorted(e["data"]["i"] for e in parsed if e["subject"] == tag) == list(range(1000))
    with open_store(settings) as store:
        assert store.count_events() == 2000


def test_read_filters_and_skips_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with EventLog(path) as log:
        log.emit("guard.check.failed", "api")
        log.emit("patch.applied", "p1", {"files": 2})
    with path.open("a") as fh:
        fh.write('{"kind": "event", "ts": "broken\n')
    events = read_events(path)
    assert [e.type for e in events] == ["guard.check.failed", "patch.applied"]
    assert [e.type for e in read_events(path, type_prefix="patch.")] == ["patch.applied"]
    assert read_events(path, since="2999-01-01") == []


def test_follow_sees_lines_from_another_process_within_a_second(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    seen: list[tuple[str, float]] = []
    done = threading.Event()

    def reader() -> None:
        for event in follow(path, stop=done.is_set, poll=0.1):
            seen.append((event.subject, time.monotonic()))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    writer = ("import sys; from pathlib import Path; from calctl.events.log import EventLog;"
              "EventLog(Path(sys.argv[1])).emit('test.follow', 'other-process')")
    written = time.monotonic()
    subprocess.run([sys.executable, "-c", writer, str(path)], check=True)
    deadline = time.monotonic() + 5
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    done.set()
    thread.join(timeout=2)
    assert seen and seen[0][0] == "other-process"
    exited = seen[0][1] - written
    assert exited < 1.0 + 0.5  # interpreter start-up of the writer is inside this window


def test_events_cli_json_and_filters(tmp_path: Path, calctl) -> None:
    (tmp_path / ".git").mkdir()
    settings = Settings.resolve(cwd=tmp_path, env={})
    with open_store(settings) as store, EventLog(settings.state_dir / "events.jsonl",
                                                 store) as log:
        log.emit("guard.check.failed", "api", {"error": "timeout"})
        log.emit("patch.verified", "p1")
    result = calctl("events", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [d["type"] for d in docs] == ["guard.check.failed", "patch.verified"]
    assert all(d["kind"] == "event" for d in docs)
    only = calctl("events", "--json", "--type", "patch.", cwd=tmp_path)
    assert [json.loads(x)["subject"] for x in only.stdout.splitlines()] == ["p1"]
    human = calctl("events", cwd=tmp_path)
    assert "guard.check.failed api" in human.stdout
    bad = calctl("events", "--since", "yesterday", cwd=tmp_path)
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_events_follow_cli_streams(tmp_path: Path, calctl_argv: list[str]) -> None:
    (tmp_path / ".git").mkdir()
    proc = subprocess.Popen([*calctl_argv, "events", "--follow", "--json"],
                            cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        with EventLog(tmp_path / ".calctl" / "events.jsonl") as log:
            log.emit("loop.tick", "x")
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert json.loads(line)["type"] == "loop.tick"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


def test_history_cli(tmp_path: Path, calctl) -> None:
    (tmp_path / ".git").mkdir()
    with open_store(Settings.resolve(cwd=tmp_path, env={})) as store:
        store.add_bug_report(error_message="boom", file_path="app.py", line_number=3)
        store.add_patch_application(patch_id="p9", file_path="app.py", status="verified",
                                    success=True, description="fix boom")
    doc = calctl("history", "--json", cwd=tmp_path).json()
    assert doc["kind"] == "history"
    assert doc["bug_reports"][0]["error_message"] == "boom"
    assert doc["patches"][0]["patch_id"] == "p9"
    human = calctl("history", cwd=tmp_path)
    assert "fix boom" in human.stdout and "app.py:3" in human.stdout
