"""The analysis the console script starts before the command line is parsed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from calctl.config import MigrateSettings
from calctl.sql import early, pipes
from calctl.sql.analyse import analyse
from calctl.sql.cache import ParseCache, shard_paths
from calctl.sql.early import PARALLEL_THRESHOLD
from calctl.sql.facts import AnalysisInput
from calctl.sql.runtime import analyse_directory


@pytest.fixture(autouse=True)
def _parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the early child and the forked shards themselves: they run
    them even in CI's CALCTL_SERIAL=1 pass, and on a busy machine (a test that wants
    serial sets it again)."""
    monkeypatch.setenv("CALCTL_SERIAL", "0")


def _corpus(directory: Path, count: int, table: str = "t") -> Path:
    directory.mkdir(parents=True)
    for i in range(count):
        ref = f", {table}{i - 1}_id int REFERENCES {table}{i - 1} (id)" if i else ""
        (directory / f"{i:04d}_{table}{i}.sql").write_text(
            f"CREATE TABLE {table}{i} (id int PRIMARY KEY{ref});\n"
            f"CREATE VIEW {table}v{i} AS SELECT id FROM {table}{i};\n")
    return directory


@pytest.mark.parametrize(("args", "expected"), [
    (["migrate", "order"], {"directory": None}),
    (["--state-dir", "/s", "-vv", "--json", "migrate", "lint", "db", "--format", "github"],
     {"directory": "db", "--state-dir": "/s", "--format": "github"}),
    (["--config=c.toml", "migrate", "order", "--check", "--glob", "*.sql", "--glob=x/*.sql",
      "--define", "A=1", "--search-path", "app,public", "m"],
     {"--config": "c.toml", "--glob": ["*.sql", "x/*.sql"], "--define": ["A=1"],
      "--search-path": "app,public", "directory": "m"}),
    (["migrate", "order", "--sort", "prisma", "m"], {"--sort": "prisma", "directory": "m"}),
])
def test_plain_command_lines_are_understood(args: list[str], expected: dict[str, Any]) -> None:
    found = early.parse(args)
    assert found is not None
    for key, value in expected.items():
        assert found[key] == value


@pytest.mark.parametrize("args", [
    [], ["--help"], ["migrate"], ["migrate", "apply"], ["patch", "list"],
    ["migrate", "order", "--help"], ["migrate", "order", "a", "b"],
    ["migrate", "order", "--no-such-flag"], ["--unknown", "migrate", "order"],
    ["migrate", "order", "--glob"],
])
def test_anything_else_starts_nothing(args: list[str]) -> None:
    assert early.parse(args) is None


def test_progress_marks_split_the_list_where_the_processes_meet() -> None:
    progress = early.Progress()
    assert progress.child_takes(0) and progress.child_takes(1)
    assert progress.parent_takes(9) and progress.parent_takes(2)
    assert not progress.child_takes(2)  # the parent had it
    assert not progress.parent_takes(1)  # the child had it
    # both marked the same item and saw the other's mark: both leave it (the parent
    # analyses it with whatever else the child did not send)
    tied = early.Progress()
    tied.child_takes(4)
    tied.parent_takes(4)
    assert not tied.child_takes(4) and not tied.parent_takes(4)


def test_common_order_is_by_key_whatever_order_the_files_came_in() -> None:
    keys = [b"c", b"a", b"b"]
    assert [keys[i] for i in early.common_order(keys)] == [b"a", b"b", b"c"]
    shuffled = [b"b", b"c", b"a"]
    assert [shuffled[i] for i in early.common_order(shuffled)] == [b"a", b"b", b"c"]


def test_files_neither_process_took_are_analysed_and_all_are_cached(tmp_path: Path) -> None:
    """Where the processes met, an item both left to the other (or a file the child
    skipped) is analysed by the parent; the child still writes every analysis."""
    from calctl.sql.cache import file_keys
    from calctl.sql.discovery import discover
    from calctl.sql.facts import to_plain

    count = PARALLEL_THRESHOLD + 10
    d = _corpus(tmp_path / "m", count)
    files = discover(d)
    keys = file_keys(files, MigrateSettings())
    order = early.common_order(keys)
    front = count // 2
    progress = early.Progress()
    progress.child_takes(front)  # as if the child had taken the front half …

    def every_other(results: int, control: int) -> None:  # … and sent every other one
        sent = pipes.Packed()
        for i in order[:front + 1:2]:
            sent.add(keys[i], to_plain(analyse(AnalysisInput.of(files[i].text, files[i].path))))
        early.send_and_save(sent, results, control)

    early._child = _fake_child(every_other, progress)
    cache = tmp_path / "cache"
    result = analyse_directory(d, MigrateSettings(), cache_dir=cache)
    assert early._child is None
    assert result.analyses == [analyse(AnalysisInput.of(f.text, f.path)) for f in result.files]
    entries = len(ParseCache(cache).stored())
    assert entries == count


def test_a_child_that_analysed_other_files_changes_nothing(tmp_path: Path,
                                                            monkeypatch: Any) -> None:
    count = PARALLEL_THRESHOLD + 20
    other = _corpus(tmp_path / "other", count, table="x")
    mine = _corpus(tmp_path / "mine", count)
    monkeypatch.chdir(tmp_path)
    early.start(["migrate", "order", str(other)])
    assert early._child is not None
    cache = tmp_path / "cache"
    result = analyse_directory(mine, MigrateSettings(), cache_dir=cache)
    assert early._child is None  # claimed, used, and waited for
    assert result.analyses == [analyse(AnalysisInput.of(f.text, f.path)) for f in result.files]
    entries = len(ParseCache(cache).stored())
    assert entries == count  # every file of `mine`, none of `other`


def test_console_script_cold_and_warm_runs_agree_with_the_library(tmp_path: Path) -> None:
    d = _corpus(tmp_path / "m", PARALLEL_THRESHOLD + 30)
    script = Path(sys.executable).parent / "calctl"
    state = tmp_path / "state"

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(script), "--state-dir", str(state), "--json", "migrate",
                               "order", str(d)], capture_output=True, text=True, check=True)

    cold = run()
    shards = [p for p in shard_paths(state / "cache") if p.exists()]
    entries = len(ParseCache(state / "cache").stored())
    assert entries == PARALLEL_THRESHOLD + 30  # the child wrote both processes' analyses
    stamps = [p.stat().st_mtime_ns for p in shards]
    warm = run()
    assert cold.stdout == warm.stdout and '"safe": true' in cold.stdout
    assert [p.stat().st_mtime_ns for p in shards] == stamps  # the early child wrote nothing
    library = subprocess.run(
        [sys.executable, "-c", "import sys; from calctl.cli import main; main(sys.argv[1:])",
         "--state-dir", str(tmp_path / "other-state"), "--json", "migrate", "order", str(d)],
        capture_output=True, text=True, check=True)
    assert library.stdout == cold.stdout


def test_after_many_edits_the_child_and_the_cache_agree(tmp_path: Path) -> None:
    count = PARALLEL_THRESHOLD + 60
    d = _corpus(tmp_path / "m", count)
    script = Path(sys.executable).parent / "calctl"
    state = tmp_path / "state"
    args = [str(script), "--state-dir", str(state), "--json", "migrate", "order", str(d)]
    subprocess.run(args, capture_output=True, check=True)
    for i in range(count):  # most files change: the child analyses only what changed
        if i % 8:
            path = d / f"{i:04d}_t{i}.sql"
            path.write_text(path.read_text() + f"COMMENT ON TABLE t{i} IS 'edited';\n")
    edited = subprocess.run(args, capture_output=True, text=True, check=True)
    library = subprocess.run(
        [sys.executable, "-c", "import sys; from calctl.cli import main; main(sys.argv[1:])",
         "--state-dir", str(tmp_path / "fresh"), "--json", "migrate", "order", str(d)],
        capture_output=True, text=True, check=True)
    assert edited.stdout == library.stdout


def _fake_child(work: Any, progress: Any) -> Any:
    """A real forked child running ``work(results_fd, control_fd)``, as early.start makes."""
    import os

    results_read, results_write = os.pipe()
    control_read, control_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(results_read)
            os.close(control_write)
            work(results_write, control_read)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            os._exit(0)
    os.close(results_write)
    os.close(control_read)
    return early.Child(pid, results_read, control_write, progress)


def test_the_parent_that_did_everything_does_not_wait_for_a_slow_child(tmp_path: Path,
                                                                       ) -> None:
    import time

    count = PARALLEL_THRESHOLD + 10
    d = _corpus(tmp_path / "m", count)

    def slow(results: int, control: int) -> None:
        time.sleep(30)  # never marks anything: the parent walks the whole list
        early.send_and_save(pipes.Packed(), results, control)

    child = early._child = _fake_child(slow, early.Progress())
    started = time.monotonic()
    result = analyse_directory(d, MigrateSettings(), cache_dir=tmp_path / "cache")
    assert time.monotonic() - started < 20
    assert child.reaped and len(result.analyses) == count
    entries = len(ParseCache(tmp_path / "cache").stored())
    assert entries == count


def test_cancel_stops_a_claimed_child_the_command_never_waited_for() -> None:
    import os
    import time

    def busy(results: int, control: int) -> None:
        time.sleep(30)

    child = early._child = _fake_child(busy, early.Progress())
    assert early.claim() is child  # the command took it, then failed before using it
    early.cancel()
    assert child.reaped
    try:
        os.kill(child.pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the child still runs")


_CHILD = """
import marshal, os, sys
from calctl.sql import early, pipes
guess = early.parse(sys.argv[1:])
early._output_flags(guess, sys.argv[1:])
results_r, results_w = os.pipe()
control_r, control_w = os.pipe()
os.close(control_w)  # the parent says nothing: the child ends after sending
early._widen(results_w)
early._work(guess, results_w, control_r, early.Progress())
sent = 0
while frame := pipes.receive(results_r):
    sent += len(marshal.loads(frame))
print(sent,
      "calctl.sql.analyse" in sys.modules, "calctl.sql.cache" in sys.modules)
"""


@pytest.mark.parametrize("sort", [[], ["--sort", "lexical"]])
@pytest.mark.parametrize("cached", [True, False])
def test_the_child_ends_at_once_when_the_output_is_cached(tmp_path: Path, cached: bool,
                                                          sort: list[str]) -> None:
    """A warm run replays its output: the early child finds that key first and neither
    reads the parse cache nor loads the analyser (it did both, for nothing, before).
    With --sort too: the child reads it as the command does (the order is in the key)."""
    d = _corpus(tmp_path / "m", PARALLEL_THRESHOLD + 10)
    state = tmp_path / "state"
    args = ["--state-dir", str(state), "migrate", "order", str(d), "--check", *sort]
    if cached:
        subprocess.run([str(Path(sys.executable).parent / "calctl"), *args],
                       capture_output=True, check=True)
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True,
                          text=True, check=True, env={**os.environ, "CALCTL_SERIAL": "0"})
    sent, analyser, _ = done.stdout.split()
    assert (sent, analyser) == (("0", "False") if cached
                                else (str(PARALLEL_THRESHOLD + 10), "True"))


def test_calctl_serial_starts_no_early_child(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALCTL_SERIAL", "1")
    early.start(["migrate", "order", str(_corpus(tmp_path / "m", 3))])
    assert early.claim() is None


def test_no_second_process_while_every_cpu_is_busy(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside processes that keep every usable CPU running, the analysis runs in one
    process (a second would only time-slice with them); CALCTL_SERIAL=0 forks anyway."""
    cpus = early.usable_cpus()
    monkeypatch.setenv("CALCTL_SERIAL", "0")
    assert early.parallel_cpus() == cpus
    monkeypatch.delenv("CALCTL_SERIAL")
    spin = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass"
    # (one per CPU of the machine: the runnable count is the machine's, whatever CPUs
    # this process may use)
    spinners = [subprocess.Popen([sys.executable, "-c", spin])
                for _ in range(max(os.cpu_count() or cpus, cpus))]
    try:
        time.sleep(0.5)  # every spinner started and running
        assert early.parallel_cpus() == 1
        early.start(["migrate", "order", str(_corpus(tmp_path / "m", PARALLEL_THRESHOLD))])
        assert early.claim() is None
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_a_named_state_directory_without_a_parse_cache_is_cold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The analyser is imported before the fork only when the run is plainly cold; a
    wrong answer costs time, never output (the child imports what it lacks)."""
    monkeypatch.delenv("CALCTL_STATE_DIR", raising=False)
    state = tmp_path / "state"
    assert not early._cold({})  # no state directory named: resolved by the child only
    assert early._cold({"--state-dir": str(state)})  # not there yet
    (state / "cache").mkdir(parents=True)
    (state / "cache" / "migrate-results.sealed").write_bytes(b"")
    assert early._cold({"--state-dir": str(state)})  # results but no analysis shard
    shard_paths(state / "cache")[3].write_bytes(b"")
    assert not early._cold({"--state-dir": str(state)})
    monkeypatch.setenv("CALCTL_STATE_DIR", str(tmp_path / "fresh"))
    assert early._cold({})


def _settings_as_guessed(state: Path, directory: Path) -> tuple[Any, Path]:
    from calctl.config import Settings
    from calctl.sql.flags import with_migrate_flags

    settings, found = with_migrate_flags(Settings.resolve({"state_dir": str(state)}), directory)
    return settings.migrate, found


def test_the_parent_takes_the_files_the_child_found_in_the_same_directory(
        tmp_path: Path, monkeypatch: Any) -> None:
    """What the child read and hashed before analysing is what discovery gives here."""
    from calctl.sql.cache import file_keys
    from calctl.sql.discovery import discover_layout

    d = _corpus(tmp_path / "m", PARALLEL_THRESHOLD + 5)
    monkeypatch.chdir(tmp_path)
    early.start(["--state-dir", str(tmp_path / "state"), "migrate", "order", str(d)])
    migrate, directory = _settings_as_guessed(tmp_path / "state", d)
    try:
        found = early.discovered(directory, migrate)
        assert found is not None
        files, layout = discover_layout(directory)
        assert found == (files, layout, file_keys(files, migrate))
        assert [type(f).__name__ for f in found[0][:1]] == ["MigrationFile"]
        assert early.discovered(directory, migrate) is None  # sent once
    finally:
        early.cancel()


@pytest.mark.parametrize("guess", [["--search-path", "app"], ["--glob", "00*.sql"], ["other"]])
def test_the_parent_discovers_itself_when_the_child_guessed_otherwise(
        tmp_path: Path, monkeypatch: Any, guess: list[str]) -> None:
    d = _corpus(tmp_path / "m", PARALLEL_THRESHOLD + 5)
    _corpus(tmp_path / "other", PARALLEL_THRESHOLD + 5, table="x")
    monkeypatch.chdir(tmp_path)
    where = [] if guess == ["other"] else [str(d)]
    early.start(["--state-dir", str(tmp_path / "state"), "migrate", "order", *where, *guess])
    migrate, directory = _settings_as_guessed(tmp_path / "state", d)
    try:
        assert early._child is not None
        assert early.discovered(directory, migrate) is None
    finally:
        early.cancel()


def test_a_child_that_found_too_few_files_shares_nothing(tmp_path: Path,
                                                         monkeypatch: Any) -> None:
    d = _corpus(tmp_path / "m", 3)
    monkeypatch.chdir(tmp_path)
    early.start(["--state-dir", str(tmp_path / "state"), "migrate", "order", str(d)])
    migrate, directory = _settings_as_guessed(tmp_path / "state", d)
    try:
        assert early.discovered(directory, migrate) is None
    finally:
        early.cancel()


def test_pairs_packed_as_they_come_arrive_whole_and_in_order() -> None:
    packed = pipes.Packed()
    sent = [(bytes([i % 256, i // 256]), (i, ("a", "b"), ())) for i in range(150)]
    for key, plain in sent[:140]:
        packed.add(key, plain)
    assert pipes.unpacked(packed.packed()) == sent[:140]  # two whole chunks and a part
    for key, plain in sent[140:]:  # (the parent adds what neither process did)
        packed.add(key, plain)
    assert pipes.unpacked(packed.packed()) == sent
    assert pipes.unpacked(pipes.Packed().packed()) == []


def _plain_pairs(count: int) -> list[tuple[bytes, Any]]:
    from calctl.sql.facts import to_plain

    return [(bytes([i]) * 16, to_plain(analyse(AnalysisInput.of(
        f"CREATE TABLE t{i} (id bigint PRIMARY KEY);\n", f"{i}.sql")))) for i in range(count)]


def test_results_are_taken_in_as_they_arrive_and_collected_whole() -> None:
    import time

    from calctl.sql.facts import from_plain

    pairs = _plain_pairs(150)

    def streams(results: int, control: int) -> None:
        sending = pipes.Packed(stream=results)
        for key, plain in pairs[:130]:
            sending.add(key, plain)  # two chunks go now …
        time.sleep(1)
        for key, plain in pairs[130:]:
            sending.add(key, plain)
        early.send_and_save(sending, results, control)  # … the rest and the end later

    child = _fake_child(streams, early.Progress())
    try:
        deadline = time.monotonic() + 20
        while len(child._got) < 2 * pipes.Packed.CHUNK and time.monotonic() < deadline:
            child.take()  # never waits
            time.sleep(0.01)
        assert len(child._got) == 2 * pipes.Packed.CHUNK
        assert child.collect() == {key: from_plain(plain) for key, plain in pairs}
    finally:
        child.wait()


def test_a_child_that_ends_in_the_middle_of_its_results_sent_nothing() -> None:
    pairs = _plain_pairs(70)

    def dies(results: int, control: int) -> None:
        sending = pipes.Packed(stream=results)
        for key, plain in pairs:
            sending.add(key, plain)  # one chunk sent, then half a message, and it ends
        os.write(results, (1 << 20).to_bytes(8, "little") + b"partial")

    child = _fake_child(dies, early.Progress())
    try:
        assert child.collect() == {}
    finally:
        child.wait()
