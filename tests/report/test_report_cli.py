"""``calctl report`` through the real entry point: every input kind, bad input, exit codes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES


def _dry(calctl: Any, shop: Path, *args: str, **kw: Any) -> dict[str, Any]:
    result = calctl("report", "--dry-run", "--json", *args, cwd=shop, **kw)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = result.json()
    assert doc["kind"] == "bug-report"
    return doc


def test_python_log_file(calctl: Any, shop: Path,
                         fixture_text: Callable[[str, Path], str]) -> None:
    (shop / "app.log").write_text(fixture_text("python_chained.log", shop))
    doc = _dry(calctl, shop, "--log", "app.log")
    assert (doc["error_type"], doc["error"]) == ("KeyError", "'price of banana'")
    # innermost frame in the project: the stdlib wrapper after it is not the location
    assert (doc["file"], doc["line"]) == ("app/cart.py", 9)
    snippet = doc["snippet"]
    assert (snippet["first_line"], snippet["error_line"]) == (4, 9)
    assert snippet["lines"][9 - 4] == "        amount += prices.price_of(item)"
    assert len(snippet["lines"]) == 11 - 0  # 5 before, 5 after: the file has 14 lines
    assert doc["context"]["chain"] == [
        "AttributeError: 'NoneType' object has no attribute 'price'"]
    assert [c["message"][-25:] for c in doc["breadcrumbs"]][-1] == "WARNING shop.cache miss " \
        "for cart 81723"[-25:]
    assert doc["fingerprint"].startswith("fp1:")
    assert '"<site-packages>/flask/app.py"' in doc["traceback"]
    assert '"<stdlib>/functools.py"' in doc["traceback"]
    assert str(shop) not in json.dumps(doc)


def test_node_stack_on_stdin(calctl: Any, shop: Path,
                             fixture_text: Callable[[str, Path], str]) -> None:
    doc = _dry(calctl, shop, "-", input=fixture_text("node_stack.log", shop))
    assert (doc["error_type"], doc["file"], doc["line"]) == ("TypeError", "web/cart.js", 4)
    assert "node_modules/express/lib/router/layer.js" in doc["traceback"]


def test_psql_log(calctl: Any, shop: Path) -> None:
    doc = _dry(calctl, shop, "--log", str(FIXTURES / "postgres_psql.log"))
    assert (doc["error_type"], doc["file"], doc["line"]) == (
        "PostgreSQL ERROR", "migrations/002_roles.sql", 2)
    assert doc["context"]["statement_line"] == 3


def test_server_log_without_a_location(calctl: Any, shop: Path) -> None:
    doc = _dry(calctl, shop, "--log", str(FIXTURES / "postgres_server.log"))
    assert doc["error"] == 'column "totl" does not exist at character 8'
    assert doc["file"] is None and doc["snippet"] is None
    assert doc["breadcrumbs"][0]["level"] == "log"


def test_pytest_output_on_stdin(calctl: Any, shop: Path) -> None:
    doc = _dry(calctl, shop, "-", input=(FIXTURES / "pytest_failure.txt").read_text())
    assert (doc["error_type"], doc["file"], doc["line"]) == ("AttributeError",
                                                            "app/prices.py", 8)
    assert doc["snippet"]["lines"][-1] == "    return entry.price"


def test_finding_document_from_migrate_apply(calctl: Any, shop: Path) -> None:
    doc = _dry(calctl, shop, "-", input=(FIXTURES / "finding_migration.json").read_text())
    assert (doc["file"], doc["line"], doc["error_type"]) == (
        "migrations/002_roles.sql", 4, "PostgreSQL ERROR")
    assert doc["context"]["check"] == "migrate apply"
    assert doc["context"]["sqlstate"] == "42P01"
    assert "REFERENCES rolez" in doc["snippet"]["lines"][3]


def test_guard_run_takes_the_first_unhealthy_check(calctl: Any, shop: Path) -> None:
    doc = _dry(calctl, shop, "-", input=(FIXTURES / "guard_run_unhealthy.json").read_text())
    assert doc["context"]["check"] == "migrations"
    assert doc["file"] == "migrations/002_roles.sql"


def test_healthy_guard_run_has_nothing_to_report(calctl: Any, shop: Path) -> None:
    result = calctl("report", "-", cwd=shop,
                    input=(FIXTURES / "guard_run_healthy.json").read_text())
    assert result.returncode == 0, result.stderr
    assert "nothing to report" in result.stdout


def test_bug_report_document_is_scrubbed_again(calctl: Any, shop: Path) -> None:
    first = _dry(calctl, shop, "--log", str(FIXTURES / "postgres_psql.log"))
    first["error"] += " password=hunter2hunter2"
    again = _dry(calctl, shop, "-", input=json.dumps(first))
    assert "hunter2hunter2" not in json.dumps(again)
    assert again["fingerprint"] == first["fingerprint"]
    assert again["redactions_by_type"] == {"keyword": 1}


def test_error_text_with_file_and_line(calctl: Any, shop: Path) -> None:
    doc = _dry(calctl, shop, "AttributeError: 'NoneType' object has no attribute 'price'",
               "--file", "app/prices.py", "--line", "8")
    assert (doc["error_type"], doc["error"]) == (
        "AttributeError", "'NoneType' object has no attribute 'price'")
    assert doc["snippet"]["first_line"] == 3 and doc["snippet"]["error_line"] == 8


def test_pasted_traceback_as_error_text(calctl: Any, shop: Path,
                                        fixture_text: Callable[[str, Path], str]) -> None:
    doc = _dry(calctl, shop, fixture_text("python_chained.log", shop))
    assert doc["error_type"] == "KeyError" and doc["file"] == "app/cart.py"


def test_context_lines_setting_and_cap(calctl: Any, shop: Path) -> None:
    body = "".join(f"x{n} = {n}\n" for n in range(1, 200))
    (shop / "app" / "big.py").write_text(body)
    doc = _dry(calctl, shop, "boom", "--file", "app/big.py", "--line", "100",
               env={"CALCTL_REPORT_CONTEXT_LINES": "2"})
    assert doc["snippet"]["lines"] == ["x98 = 98", "x99 = 99", "x100 = 100", "x101 = 101",
                                       "x102 = 102"]
    doc = _dry(calctl, shop, "boom", "--file", "app/big.py", "--line", "100",
               env={"CALCTL_REPORT_CONTEXT_LINES": "500"})
    assert len(doc["snippet"]["lines"]) == 50


def test_dry_run_records_a_redacted_row_and_events(calctl: Any, shop: Path) -> None:
    doc = _dry(calctl, shop, "--log", str(FIXTURES / "postgres_psql.log"))
    with sqlite3.connect(shop / ".calctl" / "calctl.db") as db:
        rows = db.execute("SELECT report_id, fingerprint, status, file_path FROM "
                          "guardian_bug_reports").fetchall()
    assert rows == [(doc["report_id"], doc["fingerprint"], "dry-run",
                     "migrations/002_roles.sql")]
    events = [json.loads(line)["type"] for line in
              (shop / ".calctl" / "events.jsonl").read_text().splitlines()]
    assert events == ["report.built"]


def test_text_output_of_a_dry_run(calctl: Any, shop: Path) -> None:
    result = calctl("report", "--dry-run", "--log", str(FIXTURES / "postgres_psql.log"),
                    cwd=shop)
    assert result.returncode == 0
    assert "PostgreSQL ERROR: relation \"rolez\" does not exist" in result.stdout
    assert "nothing would leave the machine" in result.stdout


def test_no_diagnoser_chosen_is_reported_without_a_fix(calctl: Any, shop: Path) -> None:
    result = calctl("report", "--json", "--log", str(FIXTURES / "postgres_psql.log"),
                    cwd=shop)
    assert result.returncode == 1, result.stderr
    doc = result.json()
    assert doc["kind"] == "diagnosis" and doc["patch"] is None
    assert doc["fingerprint"].startswith("fp1:")


@pytest.mark.parametrize(("args", "stdin", "expected"), [
    (("-",), '{"kind": "patch", "version": 1, "edits": []}', "'patch' document is not a"),
    (("-",), '{"kind": "finding", "version": 1, "check": "x", "source": "nowhere", '
             '"error": "e"}', "field source"),
    (("-",), '{"kind": "guard-run", "version": 1, "checks": [{"ok": false, "finding": '
             '{"check": 3}}]}', "checks[0].finding"),
    (("-",), "INFO nothing wrong here\nINFO really\n", "no error found in the log"),
    (("-",), "", "no error found in the log"),
    (("--log", "missing.log"), None, "cannot read it"),
    (("--log", "app"), None, "is a directory"),
    (("boom", "--file", "/etc/passwd", "--line", "1"), None, "not a path inside the project"),
    (("boom", "--file", "../outside.py"), None, "not a path inside the project"),
    (("--file", "app/cart.py"), None, "give the error text too"),
    (("boom", "--line", "3"), None, "--line needs --file"),
    (("boom", "--file", "app/cart.py", "--line", "0"), None, "counts from 1"),
    (("   ",), None, "the error text is empty"),
    (("boom", "--provider", "nosuch"), None, "unknown provider 'nosuch'"),
])
def test_bad_input_exits_2_with_one_sentence(calctl: Any, shop: Path, args: tuple[str, ...],
                                            stdin: str | None, expected: str) -> None:
    result = calctl("report", *args, cwd=shop, input=stdin)
    assert result.returncode == 2, (result.stdout, result.stderr)
    error = [line for line in result.stderr.splitlines() if line.startswith("calctl: error:")]
    assert len(error) == 1 and expected in error[0], result.stderr


def test_bad_input_with_json_prints_an_error_document(calctl: Any, shop: Path) -> None:
    result = calctl("report", "--json", "-", cwd=shop, input="[1, 2]")
    assert result.returncode == 2
    assert result.json()["kind"] == "error"


def test_json_lines_log_is_read_as_a_log(calctl: Any, shop: Path,
                                         fixture_text: Callable[[str, Path], str]) -> None:
    lines = "".join(json.dumps({"level": "info", "n": n}) + "\n" for n in range(50))
    result = calctl("report", "--dry-run", "--json", "-", cwd=shop, input=lines)
    assert result.returncode == 2 and "no error found in the log" in result.stderr
    doc = _dry(calctl, shop, "-", input=lines + fixture_text("node_stack.log", shop))
    assert doc["error_type"] == "TypeError"
    assert json.loads(doc["breadcrumbs"][0]["message"])["level"] == "info"
