"""Bad [[guard.checks]] are refused when the config is read: exit 2 naming the file and
line, the check and the key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CASES = [
    ({"name": "web", "type": "htp", "url": "http://x"}, "type",
     "key type must be one of http, tcp"),
    ({"name": "web", "type": "http", "url": "http://x", "methd": "GET"}, "methd",
     "unknown key 'methd' for a http check"),
    ({"name": "db", "type": "tcp"}, "", "key port is required for a tcp check"),
    ({"name": "db", "type": "tcp", "port": "5432"}, "port", "key port must be an integer"),
    ({"name": "db", "type": "tcp", "port": 70000}, "port", "at most 65535"),
    ({"name": "t", "type": "command", "run": "pytest 'unclosed"}, "run",
     "cannot be split like a shell would"),
    ({"name": "l", "type": "log", "path": "a.log", "pattern": "("}, "pattern",
     "is not a valid regular expression"),
    ({"name": "w", "type": "http", "url": "http://x", "expect_status": "2xx"},
     "expect_status", "must be an HTTP status"),
    ({"name": "m", "type": "migrations", "pending": "maybe"}, "pending",
     "must be one of warn, fail"),
    ({"name": "w", "type": "http", "url": "http://x", "timeout": 0}, "timeout",
     "must be more than 0"),
    ({"name": "w", "type": "http", "url": "http://x", "headers": {"X-Key": "not a name"}},
     "headers", "each value names the environment variable"),
]


@pytest.mark.parametrize(("check", "key", "message"), CASES)
def test_config_check_names_the_check_and_key(calctl: Any, guard_project: Callable[..., Path],
                                              check: dict[str, Any], key: str,
                                              message: str) -> None:
    root = guard_project([{"name": "fine", "type": "tcp", "port": 80}, check])
    text = (root / "calctl.toml").read_text().splitlines()
    header = [n for n, line in enumerate(text, 1) if line == "[[guard.checks]]"][1]
    line = next((n for n, t in enumerate(text, 1) if n > header and t.startswith(f"{key} =")),
                header) if key else header
    for args in (("config", "check"), ("guard", "once")):
        result = calctl(*args, cwd=root)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert f"calctl.toml:{line}: guard check {check['name']!r}: " in result.stderr
        assert message in result.stderr


def test_duplicate_names(calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([{"name": "a", "type": "tcp", "port": 1},
                          {"name": "a", "type": "tcp", "port": 2}])
    result = calctl("config", "check", cwd=root)
    assert result.returncode == 2
    assert "name 'a' is used by two checks" in result.stderr


def test_a_misspelt_key_gets_a_suggestion(calctl: Any,
                                          guard_project: Callable[..., Path]) -> None:
    root = guard_project([{"name": "a", "type": "tcp", "port": 1, "fail_afte": 2}])
    result = calctl("config", "check", cwd=root)
    assert result.returncode == 2 and "Did you mean fail_after?" in result.stderr


def test_valid_checks_pass_and_headers_may_name_variables(
        calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([
        {"name": "web", "type": "http", "url": "http://127.0.0.1:1/",
         "headers": {"Authorization": "WEB_TOKEN"}, "expect_status": ["200-299", 301]},
        {"name": "tests", "type": "command", "run": "pytest -q", "fail_after": 3,
         "heal": True, "severity": "critical"},
        {"name": "schema", "type": "migrations", "pending": "fail"},
        {"name": "log", "type": "log", "path": "app.log"},
        {"name": "db", "type": "postgres"},
    ])
    result = calctl("config", "check", cwd=root)
    assert result.returncode == 0, result.stderr
    # a literal secret in a header is still refused
    literal = guard_project([{"name": "web", "type": "http", "url": "http://127.0.0.1:1/",
                              "headers": {"Authorization": "Bearer sk-abcdefghijklmnopqrstu"}}])
    refused = calctl("config", "check", cwd=literal)
    assert refused.returncode == 2 and "holds a secret literally" in refused.stderr


def test_no_checks_is_a_usage_error(calctl: Any, guard_project: Callable[..., Path]) -> None:
    root = guard_project([])
    result = calctl("guard", "once", cwd=root)
    assert result.returncode == 2 and "no health checks are configured" in result.stderr


def test_pyproject_tables(calctl: Any, tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[[tool.calctl.guard.checks]]\nname = "t"\ntype = "tcp"\n'
        'port = "80"\n')
    result = calctl("config", "check", cwd=root)
    assert result.returncode == 2
    assert "pyproject.toml:7: guard check 't': key port must be an integer" in result.stderr
