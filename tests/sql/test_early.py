"""The analysis the console script starts before the command line is parsed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from calctl.config import MigrateSettings
from calctl.sql import early
from calctl.sql.analyse import analyse
from calctl.sql.cache import shard_paths
from calctl.sql.plan import PARALLEL_THRESHOLD, analyse_directory


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


def test_the_flag_lists_match_the_commands() -> None:
    import calctl.cli as cli

    cli._register()
    root = typer.main.get_command(cli.app)
    assert isinstance(root, typer.core.TyperGroup)
    globals_ = {o for p in root.params for o in p.opts}
    assert early.GLOBAL_VALUE_OPTIONS | early.GLOBAL_FLAGS | {"-v", "--version", "--help"} \
        >= globals_
    migrate = root.commands["migrate"]
    assert isinstance(migrate, typer.core.TyperGroup)
    for name in ("order", "lint"):
        options = {o for p in migrate.commands[name].params for o in p.opts
                   if o.startswith("-")}
        assert options <= early.COMMAND_VALUE_OPTIONS | early.COMMAND_FLAGS | {"--help"}, name
    for count in (PARALLEL_THRESHOLD, 2000, 10000, 100000):
        assert 128 <= early.share(count) <= 192  # half, and a little more when few


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
    assert result.analyses == [analyse(f.text, path=f.path) for f in result.files]
    entries = 0
    for path in shard_paths(cache):
        if path.exists():
            import marshal

            entries += len(marshal.loads(path.read_bytes())["entries"])
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
    import marshal

    entries = sum(len(marshal.loads(p.read_bytes())["entries"]) for p in shards)
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
