"""The fast path of ``migrate order`` (calctl.cli.quick): every line it accepts gives what
Click gives — stdout, stderr and exit code — and it declines every line it is not sure of.

Both ways run as real processes: ``calctl.cli.main`` (the fast path first) and
``calctl.cli.app.run`` (Typer always) inside the same boundary, on the same project, each
with a fresh state directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calctl.argv import order_line

FAST = "import sys; from calctl.cli import main; main(sys.argv[1:])"
# calctl.cli.main with the Typer app alone: the same boundary around calctl.cli.app.run
TYPER = ("import sys\n"
         "from calctl.argv import json_requested, verbose_requested\n"
         "from calctl.cli.app import run\n"
         "from calctl.cli.boundary import guarded\n"
         "args = sys.argv[1:]\n"
         "sys.exit(guarded(lambda: run(args), as_json=json_requested(args),\n"
         "                 verbose=verbose_requested(args)))")


def _run(code: str, args: list[str], cwd: Path, *, env: dict[str, str] | None = None,
         user: list[str] | None = None, stdout: int = subprocess.PIPE,
         ) -> tuple[int, str, str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    full.pop("DATABASE_URL", None)
    full["COLUMNS"] = "200"
    full.update(env or {})
    proc = subprocess.run([*(user or []), sys.executable, "-c", code, *args], cwd=cwd,
                          env=full, stdout=stdout, stderr=subprocess.PIPE, text=True,
                          timeout=120)
    return proc.returncode, proc.stdout or "", proc.stderr


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


@pytest.mark.parametrize("args", [
    ["migrate", "order", "--check"],
    ["--json", "migrate", "order"],
    ["--json", "--config", "missing.toml", "migrate", "order"],  # the error report too
    ["--json", "migrate", "lint", "--format", "sarif"],  # Typer's own path
    ["--json", "--config", "missing.toml", "migrate", "lint"],  # …and its error report
])
def test_a_reader_gone_early_ends_both_ways_alike(tree: Path, args: list[str]) -> None:
    """``calctl migrate order | head -0``: Click exits 1 and writes nothing more on a
    closed stdout; the fast path must too (an error still says so on stderr)."""
    results = []
    for code in (FAST, TYPER):
        shutil.rmtree(tree / ".calctl", ignore_errors=True)
        read, write = os.pipe()
        os.close(read)  # the reader is gone before anything is written
        try:
            results.append(_run(code, args, tree, stdout=write))
        finally:
            os.close(write)
    assert results[0] == results[1], args
    assert "Traceback" not in results[0][2]
    assert results[0][0] == (2 if "missing.toml" in args else 1), results[0]
    if "missing.toml" in args:
        assert "missing.toml" in results[0][2]


def test_a_completion_request_is_clicks(tree: Path) -> None:
    env = {"_CALCTL_COMPLETE": "bash_complete", "COMP_WORDS": "calctl migrate order",
           "COMP_CWORD": "3"}
    args = ["migrate", "order", "--check"]
    fast, typer = (_run(code, args, tree, env=env) for code in (FAST, TYPER))
    assert fast == typer
    assert "order" not in fast[1]  # no plan: Click answered the completion request


@pytest.fixture
def unreadable() -> Iterator[Path]:
    """A project in a directory another user can enter, whose state directory, config
    and migrations that user cannot read."""
    if os.geteuid() != 0:
        pytest.fail("this test runs calctl as another user: run it as root (CI does)")
    root = Path(tempfile.mkdtemp(prefix="calctl-quick-"))
    try:
        root.chmod(0o755)
        (root / "migrations").mkdir()
        (root / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id int);\n",
                                                       encoding="utf-8")
        (root / "closed").mkdir()
        (root / "closed" / "001_b.sql").write_text("CREATE TABLE b (id int);\n",
                                                   encoding="utf-8")
        (root / "c.toml").write_text('[migrate]\ndir = "migrations"\n', encoding="utf-8")
        (root / "st").mkdir()
        shutil.chown(root, "nobody")  # its HOME: calctl makes its key there
        for path in (root / "migrations", root / "migrations" / "001_a.sql",
                     root / "closed", root / "c.toml"):
            shutil.chown(path, "nobody")
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("args, closed", [
    (["--state-dir", "st", "migrate", "order", "migrations", "--check"], "st"),
    (["--json", "--state-dir", "st", "migrate", "order", "migrations"], "st"),
    (["migrate", "order", "closed"], "closed"),
    (["--config", "c.toml", "migrate", "order"], "c.toml"),
])
def test_a_path_its_user_cannot_read_is_refused_as_click_refuses_it(
        unreadable: Path, args: list[str], closed: str) -> None:
    """Click's Path parameters refuse an existing path the user cannot read (a usage
    error, in Click's words); the fast path declines such a line so that Click does."""
    (unreadable / closed).chmod(0o300 if (unreadable / closed).is_dir() else 0o200)
    shutil.chown(unreadable / closed, "nobody")
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    env = {"HOME": str(unreadable), "XDG_CONFIG_HOME": str(unreadable / ".config")}
    results = []
    for code in (FAST, TYPER):
        shutil.rmtree(unreadable / ".config", ignore_errors=True)
        results.append(_run(code, args, unreadable, env=env, user=nobody))
    assert results[0] == results[1], args
    assert results[0][0] == 2 and "not readable" in results[0][2], results[0]
