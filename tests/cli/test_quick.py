"""The fast path of ``migrate order`` (calctl.cli.quick): every line it accepts gives what
Click gives — stdout, stderr and exit code — and it declines every line it is not sure of.

Both ways run as real processes: ``calctl.cli.main`` (the fast path first) and
``calctl.cli.app.main`` (Typer always), on the same project, each with a fresh state
directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calctl.argv import order_line

FAST = "import sys; from calctl.cli import main; main(sys.argv[1:])"
TYPER = "import sys; from calctl.cli.app import main; main(sys.argv[1:])"


def _run(code: str, args: list[str], cwd: Path) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    env.pop("DATABASE_URL", None)
    env["COLUMNS"] = "200"
    proc = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose plan every flag of the grammar changes: a misordered pair, a
    template, a use of an object from outside, a second schema, a second directory."""
    root = tmp_path_factory.mktemp("quick")
    migrations = root / "migrations"
    migrations.mkdir()
    files = {
        "001_users.sql": "CREATE TABLE users (id int PRIMARY KEY);\n",
        "002_orders.sql": "CREATE TABLE orders (id int, user_id int REFERENCES users (id),\n"
                          "  note text DEFAULT '${NOTE}');\n",
        "003_report.sql": "CREATE VIEW report AS SELECT * FROM totals;\n",
        "004_totals.sql": "CREATE TABLE totals (n int);\n",
        "005_auth.sql": "CREATE TABLE sessions (user_id uuid REFERENCES auth.users (id));\n",
        "006_app.sql": "CREATE TABLE app_items (id int);\nCREATE INDEX ON app_items (id);\n",
    }
    for name, text in files.items():
        (migrations / name).write_text(text, encoding="utf-8")
    (root / "other").mkdir()
    (root / "other" / "001_x.sql").write_text("CREATE TABLE x (id int);\n", encoding="utf-8")
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n', encoding="utf-8")
    (root / "alt.toml").write_text('[migrate]\ndir = "other"\n', encoding="utf-8")
    return root


ROOT_OPTIONS = st.lists(st.sampled_from([
    ["--config", "calctl.toml"], ["--config", "alt.toml"], ["--config", "missing.toml"],
    ["--state-dir", "st"], ["--store-url", "postgresql://u@127.0.0.1:1/audit"],
    ["--json"], ["-q"], ["--quiet"], ["-v"], ["-vv"], ["--verbose"], ["--trust-config"],
]), max_size=4, unique_by=lambda option: option[0])
COMMAND_OPTIONS = st.lists(st.sampled_from([
    ["--check"], ["--json"], ["-q"], ["--glob", "*.sql"], ["--glob", "00[1-3]*.sql"],
    ["--exclude", "004_*"], ["--define", "NOTE=x"], ["--define", "bad"],
    ["--assume-exists", "auth.users"], ["--search-path", "app,public"],
    ["migrations"], ["migrations/002_orders.sql"], ["other"], ["nope"], ["README.txt"],
]), max_size=5, unique_by=lambda option: option[0] if option[0] == "--search-path"
    else tuple(option))


def _without_frames(stderr: str) -> str:
    """A traceback's frames (-v) name the path's own functions: keep its last line."""
    kept: list[str] = []
    in_traceback = False
    for line in stderr.splitlines():
        if line.startswith("Traceback (most recent call last):"):
            in_traceback = True
            continue
        if in_traceback and (line.startswith(" ") or not line):
            continue
        in_traceback = False
        kept.append(line)
    return "\n".join(kept)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(root=ROOT_OPTIONS, command=COMMAND_OPTIONS)
def test_every_line_the_fast_path_takes_runs_as_click_runs_it(
        tree: Path, root: list[list[str]], command: list[list[str]]) -> None:
    args = [a for option in root for a in option] + ["migrate", "order"] \
        + [a for option in command for a in option]
    assert order_line(args) is not None, args
    results = []
    for code in (FAST, TYPER):
        for state in (tree / ".calctl", tree / "st"):
            shutil.rmtree(state, ignore_errors=True)
        exit_code, out, err = _run(code, args, tree)
        results.append((exit_code, out, _without_frames(err)))
    assert results[0] == results[1], args


def test_the_fast_path_imports_no_typer(tree: Path) -> None:
    code = ("import sys; from calctl.cli import quick\n"
            "status = quick.run(sys.argv[1:])\n"
            "print(status, 'typer' in sys.modules)")
    exit_code, out, _ = _run(code, ["migrate", "order", "--check", "--json", "other"], tree)
    assert exit_code == 0 and out.splitlines()[-1] == "0 False", out


@pytest.mark.parametrize("args", [
    [],
    ["migrate"],
    ["migrate", "lint"],
    ["migrate", "order", "--help"],
    ["--help", "migrate", "order"],
    ["--version"],
    ["migrate", "order", "--format", "json"],
    ["migrate", "order", "--sort", "lexical"],
    ["migrate", "order", "--glob=*.sql"],
    ["migrate", "order", "--glob"],
    ["migrate", "order", "--glob", "-x"],
    ["migrate", "order", "--search-path", "a", "--search-path", "b"],
    ["migrate", "order", "--", "migrations"],
    ["migrate", "order", "-"],
    ["migrate", "order", "-qv"],
    ["migrate", "order", "-v"],
    ["migrate", "order", "--chec"],
    ["--config", "a.toml", "--config", "b.toml", "migrate", "order"],
    ["--state-dir", "migrate", "order"],
    ["--database-url", "x", "migrate", "order"],
    ["-qv", "migrate", "order"],
    ["migrate", "-q", "order"],
    ["patch", "list"],
])
def test_lines_it_is_not_sure_of_go_to_click(args: list[str]) -> None:
    assert order_line(args) is None


def test_what_it_reads_from_a_line() -> None:
    line = order_line(["-vv", "--verbose", "--state-dir", "st", "migrate", "order", "db",
                       "--glob", "a", "--check", "--glob", "b", "-q", "x.sql"])
    assert line is not None
    assert line["verbose"] == 3 and line["--state-dir"] == "st" and line["check"]
    assert line["--glob"] == ["a", "b"] and line["paths"] == ["db", "x.sql"]
    assert line["order_quiet"] and not line["quiet"] and not line["json"]
