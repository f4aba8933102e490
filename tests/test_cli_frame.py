"""The root command: version, help, lazy imports, the error boundary."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from calctl import __version__
from calctl.errors import ExitCode

HEAVY = ("pglast", "psycopg", "httpx", "git", "sqlparse", "unidiff")


def test_version(calctl) -> None:
    result = calctl("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"calctl {__version__}"


def test_help_lists_commands(calctl) -> None:
    result = calctl("--help")
    assert result.returncode == 0
    for command in ("init", "config", "events", "history"):
        assert command in result.stdout


def test_version_and_help_import_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from calctl.cli import main\n"
        "for args in (['--version'], ['--help'], ['config', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "sys.stderr.write(repr(loaded))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert proc.stderr.strip() == "[]"


def test_unknown_command_is_usage_error(calctl) -> None:
    result = calctl("no-such-command")
    assert result.returncode == ExitCode.USAGE
    assert "No such command" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_error_with_json_prints_error_document(calctl) -> None:
    result = calctl("history", "--limit", "many", "--json")
    assert result.returncode == ExitCode.USAGE
    doc = json.loads(result.stdout)
    assert doc["kind"] == "error" and doc["version"] == 1
    assert doc["code"] == "usage"
    assert "--limit" in doc["message"]


def test_exit_codes_are_documented() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 70]


def test_help_shows_config_table_names(calctl: Any) -> None:
    shown = calctl("migrate", "order", "--help")
    assert "[migrate] dir" in shown.stdout  # not eaten as rich markup
