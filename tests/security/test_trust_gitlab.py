"""GitLab's Docker executor: a checkout of files mode 666 in folders mode 777 (umask 0),
calctl running as root in the job's container. There, no other local user exists to
have written the config, so calctl trusts it and examples/ci/gitlab-ci.yml runs
unchanged; wherever another user really could have written it, the refusal stays.

The container is a PID namespace of the test's own (``unshare --pid --mount-proc``, as
root): what calctl sees in /proc there is what it sees in a job's container.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ci_examples import Command, gitlab_commands, run_line

CONTAINER = ["unshare", "--pid", "--fork", "--mount-proc"]
# the job's script runs under umask 0 too, with a fresh HOME (no calctl key yet)
JOB = [*CONTAINER, "sh", "-c", 'umask 0 && exec "$@"', "job"]
NOBODY = 65534
# another user's process in the container (a service account, a second job step's user)
WITH_ANOTHER_USER = ["bash", "-c", f"setpriv --reuid={NOBODY} --regid={NOBODY} "
                     "--clear-groups sleep 120 & sleep 0.2; exec \"$@\"", "with-another-user"]
MIGRATIONS = {  # filename order unsafe: 001 needs 002
    "001_orders.sql": "CREATE TABLE orders (id int, customer int REFERENCES customers (id));\n",
    "002_customers.sql": "CREATE TABLE customers (id int PRIMARY KEY);\n",
}


@pytest.fixture
def checkout(tmp_path: Path) -> Iterator[Path]:
    """/builds/group/project as GitLab's runner leaves it: umask 0 for the clone."""
    if os.geteuid() != 0:
        pytest.fail("GitLab's executor runs the job as root, and so must this test (CI does)")
    old = os.umask(0)
    try:
        root = tmp_path / "builds" / "group" / "project"
        (root / ".git").mkdir(parents=True)
        (root / "db" / "migrations").mkdir(parents=True)
        for name, body in MIGRATIONS.items():
            (root / "db" / "migrations" / name).write_text(body, encoding="utf-8")
        marker = tmp_path / "verify-ran"
        (root / "calctl.toml").write_text(
            f'[migrate]\ndir = "db/migrations"\n[patch]\nverify = ["touch {marker}"]\n',
            encoding="utf-8")
        (root / "app.txt").write_text("hello\n", encoding="utf-8")
        (root / "patch.json").write_text(json.dumps(
            {"kind": "patch", "version": 1, "description": "edit", "edits": [
                {"op": "replace", "path": "app.txt", "search": "hello", "replace": "bye"}]}),
            encoding="utf-8")
    finally:
        os.umask(old)
    assert stat.S_IMODE((root / "calctl.toml").stat().st_mode) == 0o666
    assert stat.S_IMODE(root.stat().st_mode) == 0o777
    yield root


def _calctl(root: Path, *args: str, prefix: list[str],
            home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CALCTL_", "XDG_"))}
    if home is not None:
        env["HOME"] = str(home)
    executable = str(Path(sys.executable).parent / "calctl")  # the installed entry point
    return subprocess.run([*prefix, executable, *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


COMMANDS = gitlab_commands()


@pytest.mark.parametrize("command", COMMANDS, ids=[c.line for c in COMMANDS])
def test_the_gitlab_example_runs_unchanged_on_a_666_checkout(command: Command,
                                                             checkout: Path) -> None:
    home = checkout.parents[2] / "home"  # the test's tmp_path
    result = run_line(command, checkout, prefix=JOB,
                      env={"HOME": str(home), "XDG_CONFIG_HOME": "", "XDG_CACHE_HOME": ""})
    expected = 1 if "--check" in command.line else 0  # the directory's order is unsafe
    assert result.returncode == expected, result.stdout + result.stderr
    assert "not trusted" not in result.stderr
    key = home / ".config" / "calctl" / "state.key"  # made in the job, under umask 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    if "gl-code-quality-report.json" in command.line:
        report = json.loads((checkout / "gl-code-quality-report.json").read_text())
        assert any("001_orders.sql" in issue["location"]["path"] for issue in report)


def test_a_666_checkout_is_trusted_by_root_alone_in_its_container(checkout: Path,
                                                                    tmp_path: Path) -> None:
    shown = _calctl(checkout, "config", "check", "--json", prefix=JOB)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout and json.loads(shown.stdout)["trusted"] is True
    # what the config says to run is run: its verify command
    applied = _calctl(checkout, "patch", "apply", "patch.json", prefix=JOB,
                      home=tmp_path / "home")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert (tmp_path / "verify-ran").exists()
    assert (checkout / "app.txt").read_text() == "bye\n"


def _refused(checkout: Path, tmp_path: Path, prefix: list[str], *words: str) -> None:
    shown = _calctl(checkout, "config", "check", "--json", prefix=prefix)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["trusted"] is False
    refused = _calctl(checkout, "patch", "apply", "patch.json", prefix=prefix)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    for word in words:
        assert word in refused.stderr
    assert not (tmp_path / "verify-ran").exists()
    assert (checkout / "app.txt").read_text() == "hello\n"
    # reading commands still read it, with the warning
    order = _calctl(checkout, "migrate", "order", "--check", prefix=prefix)
    assert order.returncode == 1 and "not trusted" in order.stderr


def test_another_user_in_the_container_keeps_the_refusal(checkout: Path,
                                                         tmp_path: Path) -> None:
    _refused(checkout, tmp_path, [*CONTAINER, *WITH_ANOTHER_USER],
             "writable by group or others (mode 666)", "--trust-config")


def test_a_config_another_user_owns_is_refused_in_the_container_too(
        checkout: Path, tmp_path: Path) -> None:
    os.chown(checkout / "calctl.toml", NOBODY, NOBODY)
    _refused(checkout, tmp_path, CONTAINER, f"owned by uid {NOBODY}")


def test_a_folder_only_root_may_write_does_not_help_outside_a_container(
        checkout: Path, tmp_path: Path, other_user: Any) -> None:
    """The host (kernel threads in /proc) or any host-like view with another user: a
    world-writable config stays untrusted, whatever its folder."""
    for folder in (checkout, *list(checkout.parents)[:3]):
        folder.chmod(0o755)
    _refused(checkout, tmp_path, [], "writable by group or others (mode 666)")


@pytest.fixture
def other_user() -> Iterator[None]:
    """Another user's process on the machine for the test's length, so the test does not
    depend on what else happens to run where it runs."""
    proc = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                             "--clear-groups", "sleep", "300"])
    try:
        yield
    finally:
        proc.kill()
        proc.wait()
