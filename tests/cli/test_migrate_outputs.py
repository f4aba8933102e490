"""The outputs of ``migrate order|lint`` made for terminals and CI: file paths relative to
the working directory with line and column, GitLab Code Quality, JUnit XML and SARIF
(validated against the OASIS 2.1.0 schema), through the real console script."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from support import assert_valid_sarif, write

ACCOUNTS = "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n"
# line 5, column 46: the table "plans" no migration creates
V3 = ("-- accounts get a plan\n--\n-- (a comment of several lines)\n\n"
      "ALTER TABLE accounts ADD plan bigint REFERENCES plans (id);\n")
FORMATS = ("text", "github", "sarif", "gitlab", "junit")


def _project(root: Path, files: dict[str, str | bytes]) -> Path:
    # the outputs are the subject: the rules calctl had when these cases were written
    write(root / "calctl.toml", '[migrate]\ndir = "db/migrations"\n[migrate.lint]\n'
                                'select = ["CAL00", "CAL010", "CAL011"]\n')
    for name, body in files.items():
        write(root / "db" / "migrations" / name, body)
    return root


def _where(fmt: str, out: str) -> list[str]:
    """The file locations an output names, as path:line[:column]."""
    if fmt == "text":
        return [line.split()[2] for line in out.splitlines()
                if line.startswith(("error", "warning"))]
    if fmt == "github":
        found = []
        for line in out.splitlines():
            props = dict(p.split("=", 1) for p in line.split("::")[1].split(" ", 1)[1].split(",")
                         if "=" in p)
            if "line" in props:  # not a move's notice
                found.append(f"{props['file']}:{props['line']}:{props['col']}")
        return found
    if fmt == "sarif":
        log = json.loads(out)
        assert_valid_sarif(log)
        return [f"{loc['artifactLocation']['uri']}:{loc['region']['startLine']}:"
                f"{loc['region']['startColumn']}"
                for r in log["runs"][0]["results"]
                for loc in (r["locations"][0]["physicalLocation"],)]
    if fmt == "gitlab":
        return [f"{i['location']['path']}:{i['location']['lines']['begin']}"
                for i in json.loads(out)]
    root = ET.fromstring(out)
    return [f.text.split()[1].rstrip(":") for f in root.iter("failure") if f.text]


def test_paths_are_relative_to_the_working_directory_with_line_and_column(
        calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path / "repo", {"V1__accounts.sql": ACCOUNTS, "V3__accounts.sql": V3})
    expected = {"gitlab": ["db/migrations/V3__accounts.sql:5"]}
    for fmt in FORMATS:
        result = calctl("migrate", "lint", "--format", fmt, cwd=root)
        assert result.returncode == 0, result.stderr
        assert _where(fmt, result.stdout) == expected.get(
            fmt, ["db/migrations/V3__accounts.sql:5:49"]), (fmt, result.stdout)
    # the JSON document keeps paths relative to the directory it names (apply --plan)
    report = calctl("migrate", "lint", "--json", cwd=root).json()
    assert report["directory"].endswith("db/migrations")
    assert [(p["path"], p["line"], p["column"]) for p in report["problems"]] == [
        ("V3__accounts.sql", 5, 49)]
    # from a folder below the root: relative to it, the cached output not replayed
    below = calctl("migrate", "lint", "--format", "github", cwd=root / "db")
    assert _where("github", below.stdout) == ["migrations/V3__accounts.sql:5:49"]
    again = calctl("migrate", "lint", cwd=root)
    assert _where("text", again.stdout) == ["db/migrations/V3__accounts.sql:5:49"]


def test_order_names_files_from_the_working_directory(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path / "repo", {
        "V1__orders.sql": ("CREATE TABLE orders (id bigint, account bigint REFERENCES "
                           "accounts (id));\n"),
        "V2__accounts.sql": ACCOUNTS,
    })
    text = calctl("migrate", "order", "--check", cwd=root)
    assert text.returncode == 1
    assert "error   CAL001 db/migrations/V1__orders.sql:1:" in text.stdout
    assert "rename V1__orders.sql to sort after V2__accounts.sql" in text.stdout
    for fmt in ("github", "sarif", "gitlab", "junit"):
        result = calctl("migrate", "order", "--check", "--format", fmt, cwd=root)
        assert result.returncode == 1, (fmt, result.stderr)
        (where,) = _where(fmt, result.stdout)
        assert where.startswith("db/migrations/V1__orders.sql:1"), (fmt, where)
    plan = calctl("migrate", "order", "--json", cwd=root).json()
    assert [f["path"] for f in plan["files"]] == ["V2__accounts.sql", "V1__orders.sql"]


def test_a_directory_outside_the_working_directory_is_named_absolutely(
        calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path / "repo", {"V1__accounts.sql": ACCOUNTS,
                                        "V3__accounts.sql": V3})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    directory = root / "db" / "migrations"
    full = (directory / "V3__accounts.sql").as_posix()
    only = ("--select", "CAL003")  # no project config from here: the rule on the command line
    text = calctl("migrate", "lint", str(directory), *only, cwd=elsewhere)
    assert _where("text", text.stdout) == [f"{full}:5:49"]
    sarif = calctl("migrate", "lint", str(directory), "--format", "sarif", *only,
                   cwd=elsewhere)
    log = json.loads(sarif.stdout)
    assert_valid_sarif(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    # %SRCROOT% is the checkout: a file outside it is a file: URI of its own
    assert location["artifactLocation"] == {"uri": (directory / "V3__accounts.sql").as_uri()}
    # the same directory named relatively from its parent: relative again
    near = calctl("migrate", "lint", "repo/db/migrations", *only, cwd=tmp_path)
    assert _where("text", near.stdout) == ["repo/db/migrations/V3__accounts.sql:5:49"]


def test_gitlab_code_quality_report(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path / "repo", {
        "V1__accounts.sql": ACCOUNTS,
        "V2__index.sql": "CREATE INDEX accounts_email ON accounts (email);\n",
        "V3__accounts.sql": V3,
        "V4__orders.sql": "CREATE TABLE orders (id bigint REFERENCES customers (id));\n"
                          "CREATE TABLE refunds (id bigint REFERENCES customers (id));\n",
    })
    result = calctl("migrate", "lint", "--format", "gitlab", cwd=root)
    assert result.returncode == 0, result.stderr
    issues = result.json()
    assert {i["check_name"] for i in issues} == {"CAL003", "CAL011"}
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert issue["location"]["path"].startswith("db/migrations/V")
        assert issue["location"]["lines"]["begin"] >= 1
        assert issue["description"].startswith(issue["check_name"] + " ")
    assert len({i["fingerprint"] for i in issues}) == len(issues)
    # a line added above a problem does not make it a new one for GitLab
    (root / "db" / "migrations" / "V2__index.sql").write_text(
        "-- reviewed\nCREATE INDEX accounts_email ON accounts (email);\n", encoding="utf-8")
    (root / "db" / "migrations" / "V3__accounts.sql").write_text("\n\n" + V3, encoding="utf-8")
    shifted = calctl("migrate", "lint", "--format", "gitlab", cwd=root).json()
    assert {i["fingerprint"] for i in shifted} == {i["fingerprint"] for i in issues}
    assert [i["location"]["lines"]["begin"] for i in shifted
            if i["check_name"] == "CAL011"] == [2]
    # order: an error is critical
    order = calctl("migrate", "order", "--format", "gitlab", cwd=_project(tmp_path / "o", {
        "V1__orders.sql": "CREATE TABLE orders (account bigint REFERENCES accounts (id));\n",
        "V2__accounts.sql": ACCOUNTS}))
    assert [(i["check_name"], i["severity"]) for i in order.json()] == [("CAL001", "critical")]


def test_junit_report_has_a_testcase_per_file_and_a_failure_per_problem(
        calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path / "repo", {
        "V1__accounts.sql": ACCOUNTS,
        "V2__index.sql": "CREATE INDEX a_email ON accounts (email);\n"
                         "CREATE INDEX a_id ON accounts (id);\n",
        "V3__accounts.sql": V3,
    })
    result = calctl("migrate", "lint", "--format", "junit", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    suites = ET.fromstring(result.stdout)
    (suite,) = suites.iter("testsuite")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(cases) == [f"db/migrations/{n}" for n in
                           ("V1__accounts.sql", "V2__index.sql", "V3__accounts.sql")]
    assert suite.get("tests") == "3" and suite.get("failures") == "2"
    assert [f.get("type") for f in cases["db/migrations/V2__index.sql"].iter("failure")] == [
        "CAL011", "CAL011"]
    assert not list(cases["db/migrations/V1__accounts.sql"].iter("failure"))
    (failure,) = cases["db/migrations/V3__accounts.sql"].iter("failure")
    assert failure.text is not None
    assert failure.text.startswith("warning db/migrations/V3__accounts.sql:5:49: ")
    order = calctl("migrate", "order", "--check", "--format", "junit", cwd=root)
    assert order.returncode == 0
    assert len(list(ET.fromstring(order.stdout).iter("testcase"))) == 3


def test_sarif_uris_help_links_and_plain_sentences(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path / "repo", {
        "V1__accounts.sql": ACCOUNTS,
        "V2__add index [draft]:x.sql": "CREATE INDEX accounts_email ON accounts (email);\n",
    })
    result = calctl("migrate", "lint", "--format", "sarif", cwd=root)
    assert result.returncode == 0, result.stderr
    log = result.json()
    assert_valid_sarif(log)
    assert "``" not in result.stdout  # no reStructuredText literals from docstrings
    run = log["runs"][0]
    (found,) = run["results"]
    location = found["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location == {"uri": "db/migrations/V2__add%20index%20%5Bdraft%5D%3Ax.sql",
                        "uriBaseId": "%SRCROOT%"}
    assert found["message"]["text"] == (
        "CREATE INDEX without CONCURRENTLY blocks writes to the table while the index is "
        "built. Use CREATE INDEX CONCURRENTLY, in a file marked "
        "`-- calctl: no-transaction`.")
    rule = run["tool"]["driver"]["rules"][found["ruleIndex"]]
    assert rule["id"] == "CAL011"
    assert rule["helpUri"] == ("https://github.com/calctl/calctl/blob/main/docs/rules.md"
                               "#cal011-require-concurrent-index-creation")
    assert "`CREATE INDEX CONCURRENTLY` builds it" in rule["help"]["markdown"]
    # the base of the links is a setting
    write(root / "calctl.toml", '[migrate]\ndir = "db/migrations"\n'
          'rules_docs_url = "https://docs.example.org/calctl/rules.html"\n')
    custom = calctl("migrate", "lint", "--format", "sarif", cwd=root).json()
    assert_valid_sarif(custom)
    assert {r["helpUri"] for r in custom["runs"][0]["tool"]["driver"]["rules"]} >= {
        "https://docs.example.org/calctl/rules.html#cal001-forward-dependency"}


def test_a_file_calctl_cannot_read_is_a_result_in_ci_reports(calctl: Any,
                                                             tmp_path: Path) -> None:
    root = _project(tmp_path / "repo", {"V1__accounts.sql": ACCOUNTS,
                                        "V2__latin1.sql": b"SELECT 1;\n-- caf\xe9\n"})
    for command in ("lint", "order"):
        sarif = calctl("migrate", command, "--format", "sarif", cwd=root)
        assert sarif.returncode == 1, sarif.stderr
        log = sarif.json()
        assert_valid_sarif(log)
        (found,) = log["runs"][0]["results"]
        assert found["ruleId"] == "CAL006" and found["level"] == "error"
        assert "not valid UTF-8 (byte 0xe9)" in found["message"]["text"]
        physical = found["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"] == "db/migrations/V2__latin1.sql"
        assert physical["region"]["startLine"] == 2
    gitlab = calctl("migrate", "lint", "--format", "gitlab", cwd=root)
    assert gitlab.returncode == 1
    assert [(i["check_name"], i["location"]["path"]) for i in gitlab.json()] == [
        ("CAL006", "db/migrations/V2__latin1.sql")]
    # for a person at a terminal it stays an error naming the file (exit 2)
    text = calctl("migrate", "lint", cwd=root)
    assert text.returncode == 2 and "V2__latin1.sql:2: not valid UTF-8" in text.stderr
    # a link that leads nowhere stops the listing itself: still a result
    (root / "db" / "migrations" / "V2__latin1.sql").unlink()
    os.symlink(root / "nowhere.sql", root / "db" / "migrations" / "V5__gone.sql")
    linked = calctl("migrate", "lint", "--format", "sarif", cwd=root)
    assert linked.returncode == 1
    (found,) = linked.json()["runs"][0]["results"]
    assert found["ruleId"] == "CAL006" and "points nowhere" in found["message"]["text"]
    assert found["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "db/migrations/V5__gone.sql"
