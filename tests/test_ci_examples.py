"""action.yml and examples/ci/*.yml: what CI reads in them is there, and every calctl
command they hold runs — through bash and the real entry point, on a real migration
directory — with the exit code CI needs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_examples import (
    ACTION,
    GITHUB,
    GITLAB,
    Command,
    action_commands,
    action_defaults,
    github_commands,
    gitlab_commands,
    load,
    run_line,
    step_env,
)
from support import write

UNSAFE = {  # 001 uses what 002 creates; 003 drops a column (a lint warning)
    "001_orders.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint REFERENCES "
                      "customers (id));\n",
    "002_customers.sql": "CREATE TABLE customers (id bigint PRIMARY KEY, legacy text);\n",
    "003_drop.sql": "ALTER TABLE customers DROP COLUMN legacy;\n",
}
SAFE = {
    "001_customers.sql": "CREATE TABLE customers (id bigint PRIMARY KEY);\n",
    # a foreign key locks customers: the timeouts keep squawk's CAL025/CAL026 quiet
    "002_orders.sql": "SET lock_timeout = '5s';\nSET statement_timeout = '5s';\n"
                      "CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint REFERENCES "
                      "customers (id));\n",
}


def project(base: Path, files: dict[str, str], directory: str = "db/migrations") -> Path:
    root = base / "repo"
    write(root / "calctl.toml", f'[migrate]\ndir = "{directory}"\n')
    (root / ".git").mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        write(root / directory / name, body)
    return root


def test_the_action_is_a_composite_action_ci_can_use() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert {"directory", "python-version", "version", "args"} <= set(action["inputs"])
    steps = action["runs"]["steps"]
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    upload = next(s for s in steps if s.get("uses", "").startswith(
        "github/codeql-action/upload-sarif@"))
    assert "always()" in upload["if"] and upload["with"]["sarif_file"] == "calctl.sarif"
    lint = next(s for s in steps if "migrate lint" in s.get("run", ""))
    assert "always()" in lint["if"]  # runs, and uploads, when the order check failed
    assert all("shell" in s for s in steps if "run" in s)  # composite steps need one
    assert "security-events: write" in ACTION.read_text(encoding="utf-8")


def test_the_examples_have_what_github_and_gitlab_read() -> None:
    workflow = load(GITHUB)
    assert workflow["permissions"]["security-events"] == "write"
    steps = workflow["jobs"]["calctl"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith(
        "github/codeql-action/upload-sarif@"))
    assert "always()" in upload["if"]
    gitlab = load(GITLAB)
    job = gitlab["calctl"]
    report = job["artifacts"]["reports"]["codequality"]
    assert job["artifacts"]["when"] == "always"
    assert any(f"> {report}" in line for line in job["script"])
    commands = {c.line.split(" >")[0] for c in [*action_commands(), *github_commands(),
                                                 *gitlab_commands()]}
    assert any(c.startswith("calctl migrate order --check") for c in commands)
    assert any("--format sarif" in c for c in commands)
    assert any("--format gitlab" in c for c in commands)


def _run(command: Command, root: Path, inputs: dict[str, str] | None = None,
         expect: int = 0) -> None:
    env = step_env(command, {**action_defaults(), **(inputs or {})})
    result = run_line(command, root, env=env)
    assert result.returncode == expect, (command.line, root.parent.name, result.stderr)


def _outputs(root: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for name in ("calctl.sarif", "gl-code-quality-report.json"):
        if (root / name).exists():
            found[name] = json.loads((root / name).read_text(encoding="utf-8"))
    return found


ALL = [*action_commands(), *github_commands(), *gitlab_commands()]


@pytest.mark.parametrize("command", ALL, ids=[f"{c.source}: {c.line}" for c in ALL])
def test_each_command_gates_on_order_and_reports_lint(command: Command,
                                                       tmp_path: Path) -> None:
    unsafe = project(tmp_path / "unsafe", UNSAFE)
    safe = project(tmp_path / "safe", SAFE)
    gate = "--check" in command.line
    _run(command, unsafe, expect=1 if gate else 0)
    _run(command, safe)
    for root, problems in ((unsafe, True), (safe, False)):
        for name, document in _outputs(root).items():
            if name.endswith(".sarif"):
                assert isinstance(document, dict) and document["version"] == "2.1.0"
                results = document["runs"][0]["results"]
            else:
                assert isinstance(document, list)  # GitLab Code Quality: a list of issues
                results = document
                for issue in results:
                    assert {"description", "fingerprint", "severity", "location"} <= set(issue)
            assert bool(results) == problems, (command.line, name, results)
    if "inputs" not in repr(command.env):
        return
    # the action's directory input: the run starts at the repository root
    elsewhere = project(tmp_path / "other", UNSAFE, directory="sql")
    (elsewhere / "calctl.toml").unlink()
    _run(command, elsewhere, {"directory": "sql"}, expect=1 if gate else 0)
