"""``-q`` for cron, before or after the command name: every command prints nothing when
there is nothing to report, and still prints problems and errors (real CLI, real
PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHECKS = '\n[[guard.checks]]\nname = "ok"\ntype = "command"\nrun = ["true"]\n'


@pytest.fixture
def applied(project: Path, pg_url: str, calctl: Any) -> dict[str, str]:
    """A git project whose one migration is applied to ``pg_url``, with a healthy check;
    the environment that names the database."""
    (project / ".git").mkdir()
    (project / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n' + CHECKS,
                                         encoding="utf-8")
    (project / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id bigint);\n")
    env = {"DATABASE_URL": pg_url}
    first = calctl("migrate", "apply", cwd=project, env=env)
    assert first.returncode == 0 and "applied" in first.stdout, first.stderr
    return env


QUIET_COMMANDS = [
    ("migrate", "order"),
    ("migrate", "order", "--check"),
    ("migrate", "lint"),
    ("migrate", "apply"),
    ("migrate", "status"),
    ("config", "check"),
    ("events", "--type", "nothing."),
    ("history",),
    ("stats",),
    ("patch", "list"),
    ("patch", "recover"),
    ("guard", "once"),
]


@pytest.mark.parametrize("args", QUIET_COMMANDS, ids=" ".join)
def test_nothing_to_report_prints_nothing(calctl: Any, project: Path, applied: dict[str, str],
                                          args: tuple[str, ...]) -> None:
    for line in (("-q", *args), (*args, "-q"), (*args, "--quiet"), ("--quiet", *args)):
        result = calctl(*line, cwd=project, env=applied)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), line
    if args[0] != "events":  # (no event of that type: silent anyway)
        loud = calctl(*args, cwd=project, env=applied)  # without -q it says something
        assert loud.returncode == 0 and (loud.stdout + loud.stderr).strip(), args


def test_verify_init_and_a_healthy_report_are_silent(calctl: Any, project: Path,
                                                     applied: dict[str, str],
                                                     pg_server_url: str,
                                                     tmp_path: Path) -> None:
    verify = calctl("migrate", "verify", "-q", "--database-url", pg_server_url, cwd=project)
    assert (verify.returncode, verify.stdout, verify.stderr) == (0, "", "")
    run = calctl("guard", "once", "--json", cwd=project)
    assert run.returncode == 0 and run.json()["kind"] == "guard-run"
    report = calctl("report", "-", "-q", cwd=project, input=run.stdout)
    assert (report.returncode, report.stdout, report.stderr) == (0, "", "")
    (tmp_path / "fresh").mkdir()
    init = calctl("-q", "init", cwd=tmp_path / "fresh")
    assert (init.returncode, init.stdout, init.stderr) == (0, "", "")
    assert (tmp_path / "fresh" / "calctl.toml").is_file()


def test_problems_and_errors_still_print(calctl: Any, project: Path,
                                        applied: dict[str, str]) -> None:
    migrations = project / "migrations"
    (migrations / "002_users.sql").write_text("CREATE TABLE users (id bigint);\n")
    status = calctl("migrate", "status", "-q", cwd=project, env=applied)
    assert status.returncode == 0
    assert "pending" in status.stdout and "002_users.sql" in status.stdout
    assert "001_a.sql" not in status.stdout  # applied: nothing to say about it
    apply = calctl("-q", "migrate", "apply", cwd=project, env=applied)
    assert apply.returncode == 0 and "002_users.sql" in apply.stdout  # a change is news

    (migrations / "003_bad.sql").write_text("SELEC 1;\n")
    lint = calctl("migrate", "lint", "-q", cwd=project)
    assert lint.returncode == 1 and "CAL006" in lint.stdout
    failed = calctl("migrate", "apply", "-q", cwd=project, env=applied)
    assert failed.returncode == 1 and "migration failed: 003_bad.sql:1:1" in failed.stderr
    (migrations / "003_bad.sql").unlink()

    (migrations / "000_uses_later.sql").write_text("CREATE VIEW v AS SELECT * FROM later;\n")
    (migrations / "004_later.sql").write_text("CREATE TABLE later (id bigint);\n")
    order = calctl("-q", "migrate", "order", "--check", cwd=project)
    assert order.returncode == 1 and "000_uses_later.sql" in order.stdout
    missing = calctl("-q", "migrate", "apply", cwd=project)
    assert missing.returncode == 2 and "no target database" in missing.stderr

    (project / "calctl.toml").write_text(
        '[migrate]\ndir = "migrations"\n' + CHECKS.replace('"true"', '"false"'))
    guard = calctl("guard", "once", "-q", cwd=project)
    assert guard.returncode == 1 and "ok: UNHEALTHY" in guard.stdout


def test_quiet_and_loud_outputs_are_replayed_apart(calctl: Any, project: Path) -> None:
    """order/lint replay a cached output: -q is part of its key."""
    (project / "migrations" / "001_a.sql").write_text("CREATE TABLE a (id bigint);\n")
    for _ in range(2):  # the second round replays both
        for scope in ("order", "lint"):
            assert calctl("migrate", scope, "-q", cwd=project).stdout == ""
            assert calctl("migrate", "-q", scope, cwd=project).stdout == ""  # on the group
            loud = calctl("migrate", scope, cwd=project).stdout
            assert "0 errors, 0 warnings" in loud, loud


def test_quiet_is_in_the_help_of_every_command(calctl: Any) -> None:
    for args in (("migrate", "apply"), ("config", "show"), ("events",), ("guard", "once")):
        shown = calctl(*args, "--help")
        assert shown.returncode == 0 and "--quiet" in shown.stdout and "-q" in shown.stdout
