"""``calctl migrate order|lint|rules`` through the real console script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from calctl.sql.cache import shard_paths
from support import assert_valid_sarif

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "migrations" / "shop"


def _write(directory: Path, files: dict[str, str | bytes]) -> Path:
    for name, body in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(body, bytes):
            path.write_bytes(body)
        else:
            path.write_text(body, encoding="utf-8")
    return directory


MISNUMBERED = {
    "010_roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text);\n",
    "011_add_admin_roles.sql": "-- admins\n\nALTER TABLE roles ADD COLUMN admin boolean;\n"
                               "CREATE TABLE admin_roles (\n  role_id int REFERENCES roles (id),\n"
                               "  user_id int REFERENCES users (id)\n);\n",
    "012_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text);\n",
}


def test_order_json_document(calctl: Any, project: Path) -> None:
    _write(project / "migrations", MISNUMBERED)
    result = calctl("migrate", "order", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    plan = result.json()
    assert plan["kind"] == "migration-plan" and plan["version"] == 1
    assert [f["path"] for f in plan["files"]] == ["010_roles.sql", "012_users.sql",
                                                   "011_add_admin_roles.sql"]
    moved = plan["files"][2]
    assert moved["position"] == 2 and moved["moved_from"] == 1
    assert {"path", "position", "moved_from", "depends_on", "approximate"} <= set(moved)
    assert {"path": "012_users.sql", "object": 'table "users"', "line": 6} in moved["depends_on"]
    (problem,) = [p for p in plan["problems"] if p["code"] == "CAL001"]
    assert set(problem) >= {"code", "name", "severity", "path", "line", "column", "message",
                            "hint"}
    assert problem["message"].startswith(
        '011_add_admin_roles.sql uses table "users" (line 6), created by 012_users.sql '
        "— move it after 012_users.sql")
    assert plan["safe"] is False


def test_check_exit_codes_and_human_output(calctl: Any, project: Path) -> None:
    _write(project / "migrations", MISNUMBERED)
    unsafe = calctl("migrate", "order", "--check", cwd=project)
    assert unsafe.returncode == 1
    assert "011_add_admin_roles.sql" in unsafe.stdout and "012_users.sql" in unsafe.stdout
    assert "move it after 012_users.sql" in unsafe.stdout
    full = calctl("migrate", "order", cwd=project)
    assert full.returncode == 0  # without --check the order is information, not failure
    assert ("011_add_admin_roles.sql  (rename to sort after 012_users.sql: needs table"
            in full.stdout)
    (project / "migrations" / "011_add_admin_roles.sql").rename(
        project / "migrations" / "013_add_admin_roles.sql")
    safe = calctl("migrate", "order", "--check", cwd=project)
    assert safe.returncode == 0, safe.stdout
    assert "filename order is safe" in safe.stdout


def test_human_output_prints_names_literally_with_and_without_colour(calctl: Any,
                                                                     tmp_path: Path) -> None:
    d = _write(tmp_path / "m", {
        "001_[draft]_:x:_orders.sql": "CREATE TABLE orders (id int, customer int "
                                      "REFERENCES customers (id));\n",
        "002_customers.sql": "CREATE TABLE customers (id int PRIMARY KEY);\n",
    })
    plain = calctl("migrate", "order", str(d), "--check")
    assert plain.returncode == 1
    assert "rename 001_[draft]_:x:_orders.sql to sort after 002_customers.sql" in plain.stdout
    assert "\x1b[" not in plain.stdout  # a pipe gets no colours
    coloured = calctl("migrate", "order", str(d), "--check", env={"FORCE_COLOR": "1"})
    assert "\x1b[" in coloured.stdout
    assert "001_[draft]_:x:_orders.sql" in coloured.stdout  # not markup, not an emoji
    assert "filename order is unsafe" in coloured.stdout


def test_a_file_name_s_escape_sequence_is_spelled_not_sent(calctl: Any,
                                                           tmp_path: Path) -> None:
    """A repository's file names reach the terminal: one holding ESC [2J (clear screen)
    or a title-setting sequence is printed as text, coloured or not."""
    d = _write(tmp_path / "m", {
        "001_\x1b[2J\x1b]0;pwned\x07_orders.sql": "CREATE TABLE orders (id bigint, customer "
                                                "bigint REFERENCES customers (id));\n",
        "002_customers.sql": "CREATE TABLE customers (id bigint PRIMARY KEY);\n",
    })
    for env in ({}, {"FORCE_COLOR": "1"}):
        shown = calctl("migrate", "order", str(d), env=env)
        assert shown.returncode == 0, shown.stderr
        assert "001_\\x1b[2J\\x1b]0;pwned\\x07_orders.sql" in shown.stdout
        assert "\x1b[2J" not in shown.stdout and "\x07" not in shown.stdout


def test_github_and_sarif_formats(calctl: Any, project: Path) -> None:
    _write(project / "migrations", MISNUMBERED)
    gh = calctl("migrate", "order", "--check", "--format", "github", cwd=project)
    assert gh.returncode == 1
    line = next(x for x in gh.stdout.splitlines() if "CAL001" in x)
    assert line.startswith("::error file=migrations/011_add_admin_roles.sql,line=6,")
    assert "title=CAL001 forward-dependency::" in line
    sarif = calctl("migrate", "lint", "--format", "sarif", cwd=project)
    assert sarif.returncode == 1
    log = sarif.json()
    assert_valid_sarif(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids[0] == "CAL001"
    result = next(r for r in run["results"] if r["ruleId"] == "CAL001")
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "CAL001"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "migrations/011_add_admin_roles.sql"
    assert location["region"]["startLine"] == 6
    assert result["level"] == "error"


def test_lint_fail_on_and_rules(calctl: Any, project: Path) -> None:
    _write(project / "migrations", {
        "001_a.sql": "CREATE TABLE a (id bigint, legacy text);\n",
        # the timeouts keep squawk's require-lock/statement-timeout (CAL025, CAL026) quiet
        "001_drop_legacy.sql": ("SET lock_timeout = '5s';\nSET statement_timeout = '5s';\n"
                                "ALTER TABLE a DROP COLUMN legacy;\n"),
    })
    lint = calctl("migrate", "lint", "--json", cwd=project)
    assert lint.returncode == 0, lint.stdout
    codes = {p["code"] for p in lint.json()["problems"]}
    assert codes == {"CAL005", "CAL008"}
    strict = calctl("migrate", "lint", "--fail-on", "warning", cwd=project)
    assert strict.returncode == 1 and "CAL008" in strict.stdout
    rules = calctl("migrate", "rules", "--json", cwd=project)
    assert rules.returncode == 0
    listed = rules.json()["rules"]
    assert [r["code"] for r in listed][:3] == ["CAL001", "CAL002", "CAL003"]
    assert all(r["name"] and r["severity"] and r["summary"] for r in listed)
    human = calctl("migrate", "rules", cwd=project)
    assert "forward-dependency" in human.stdout


def test_bad_input_exits_2_without_traceback(calctl: Any, project: Path) -> None:
    migrations = project / "migrations"
    empty = calctl("migrate", "order", cwd=project)
    assert empty.returncode == 2 and "no migration files" in empty.stderr
    _write(migrations, {"001_ok.sql": "SELECT 1;\n",
                        "002_latin1.sql": b"SELECT 1;\n-- caf\xe9\n"})
    bad = calctl("migrate", "order", cwd=project)
    assert bad.returncode == 2
    assert "migrations/002_latin1.sql:2: not valid UTF-8" in bad.stderr
    assert "Traceback" not in bad.stderr
    as_json = calctl("migrate", "lint", "--json", cwd=project)
    assert as_json.returncode == 2 and as_json.json()["code"] == "bad-encoding"
    (migrations / "002_latin1.sql").unlink()
    (migrations / "003_gone.sql").symlink_to(project / "nowhere.sql")
    unreadable = calctl("migrate", "order", cwd=project)
    assert unreadable.returncode == 2
    assert "migrations/003_gone.sql:1: cannot read" in unreadable.stderr
    assert "Traceback" not in unreadable.stderr
    missing = calctl("migrate", "order", "no-such-dir", cwd=project)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    define = calctl("migrate", "order", "--define", "oops", cwd=project)
    assert define.returncode == 2 and "NAME=VALUE" in define.stderr


def test_layouts_flags_templates_and_ignores(calctl: Any, tmp_path: Path) -> None:
    d = _write(tmp_path / "m", {
        # diesel / prisma style directories, golang-migrate down files left out
        "2_users/up.sql": "CREATE TABLE app.users (id int PRIMARY KEY);\n",
        "2_users/down.sql": "DROP TABLE app.users;\n",
        "10_orders.up.sql": "CREATE TABLE orders (id int, user_id int REFERENCES users (id),"
                            " tenant int REFERENCES tenants (id));\n",
        "10_orders.down.sql": "DROP TABLE orders;\n",
        "1_schema/migration.sql": "CREATE SCHEMA {{ index .Options \"Namespace\" }};\n",
        "3_dbmate.sql": "-- migrate:up\nCREATE INDEX users_id ON users (id);\n"
                        "-- migrate:down\nDROP TABLE users;\n",
        # pop/kratos: one file per dialect, only PostgreSQL's counts
        "4_x.mysql.up.sql": "CREATE TABLE x (id INT AUTO_INCREMENT) ENGINE=InnoDB;\n",
        "4_x.sqlite3.up.sql": "CREATE TABLE x (id INTEGER PRIMARY KEY AUTOINCREMENT);\n",
    })
    plain = calctl("migrate", "order", str(d), "--json", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    doc = plain.json()
    assert [f["path"] for f in doc["files"]] == ["1_schema/migration.sql", "2_users/up.sql",
                                                 "3_dbmate.sql", "10_orders.up.sql"]
    assert doc["files"][0]["approximate"] is True
    assert "CAL009" in {p["code"] for p in doc["problems"]}
    rendered = calctl("migrate", "order", str(d), "--json", "--define", "Namespace=app",
                      "--search-path", "app,public", "--assume-exists", "tenants",
                      cwd=tmp_path)
    doc = rendered.json()
    assert doc["problems"] == [], doc["problems"]
    assert doc["files"][0]["approximate"] is False
    deps = {(x["path"], x["object"]) for x in doc["files"][3]["depends_on"]}
    assert ("2_users/up.sql", 'table "users"') in deps  # app is first on the path
    only = calctl("migrate", "order", str(d), "--json", "--glob", "1*.up.sql", "--exclude",
                  "2_*/*", cwd=tmp_path)
    assert [f["path"] for f in only.json()["files"]] == ["10_orders.up.sql"]
    (d / "10_orders.up.sql").write_text(
        "-- calctl: ignore-file CAL003\n"
        "CREATE TABLE orders (id int, tenant int REFERENCES tenants (id));\n")
    ignored = calctl("migrate", "order", str(d), "--json", "--define", "Namespace=app",
                     "--search-path", "app,public", cwd=tmp_path)
    assert all(p["code"] != "CAL003" for p in ignored.json()["problems"])


def test_flyway_layout(calctl: Any, tmp_path: Path) -> None:
    d = _write(tmp_path / "db", {
        "V1__users.sql": "CREATE TABLE users (id int PRIMARY KEY);\n",
        "V1_10__orders.sql": "CREATE TABLE orders (id int, user_id int REFERENCES users);\n",
        "V1_2__emails.sql": "ALTER TABLE users ADD COLUMN email text;\n",
        "R__user_view.sql": "CREATE OR REPLACE VIEW user_emails AS SELECT email FROM users;\n",
        "U1_2__emails.sql": "ALTER TABLE users DROP COLUMN email;\n",
    })
    result = calctl("migrate", "order", str(d), "--check", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert [f["path"] for f in result.json()["files"]] == [
        "V1__users.sql", "V1_2__emails.sql", "V1_10__orders.sql", "R__user_view.sql"]


def test_warm_run_uses_the_cache_and_sees_changes(calctl: Any, project: Path) -> None:
    _write(project / "migrations", MISNUMBERED)
    first = calctl("migrate", "order", "--json", cwd=project)
    shards = [p for p in shard_paths(project / ".calctl" / "cache") if p.is_file()]
    assert shards  # the parse cache was written
    stamps = [p.stat().st_mtime_ns for p in shards]
    second = calctl("migrate", "order", "--json", cwd=project)
    assert second.stdout == first.stdout
    assert [p.stat().st_mtime_ns for p in shards] == stamps  # nothing new to store
    (project / "migrations" / "012_users.sql").write_text(
        "CREATE TABLE people (id serial PRIMARY KEY);\n")
    third = calctl("migrate", "order", "--json", cwd=project).json()
    assert any(p["code"] == "CAL003" and 'table "users"' in p["message"]
               for p in third["problems"])
    for shard in shards:
        shard.write_bytes(b"not a marshal dump")
    fourth = calctl("migrate", "order", "--json", cwd=project)
    assert fourth.returncode == 0 and fourth.stdout == calctl(
        "migrate", "order", "--json", cwd=project).stdout


def test_help_does_not_import_the_parser() -> None:
    """Building every command (what --help does) imports no SQL parser."""
    code = ("import sys, typer, calctl.cli.app as app; app._register(); "
            "typer.main.get_command(app.app); "
            "assert 'calctl.cli.migrate.order' in sys.modules, 'nothing was built'; "
            "assert 'pglast' not in sys.modules and 'sqlparse' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_in_process_run_releases_what_it_kept(tmp_path: Path) -> None:
    """The console script ends without freeing the analysis; main(argv) called in a
    process that goes on must not keep it, nor leave the garbage collector paused.
    (In a fresh interpreter: main() builds only the command it runs.)"""
    _write(tmp_path / "m", MISNUMBERED)
    code = (
        "import gc, sys\n"
        "import calctl.cli as cli\n"
        "import calctl.lifecycle as lifecycle\n"
        "try:\n"
        "    cli.main(sys.argv[1:])\n"
        "except SystemExit as stop:\n"
        "    print('exit', stop.code, 'kept', len(lifecycle._held), 'gc', gc.isenabled(),\n"
        "          file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "--state-dir", str(tmp_path / "state"),
                           "migrate", "order", str(tmp_path / "m"), "--check"],
                          capture_output=True, text=True)
    assert "rename 011_add_admin_roles.sql to sort after 012_users.sql" in done.stdout
    assert done.stderr.strip().endswith("exit 1 kept 0 gc True"), done.stderr
