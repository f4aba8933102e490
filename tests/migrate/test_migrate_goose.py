"""goose files (issue 12, item 10): only the ``-- +goose Up`` section is read, by the
analysis and by ``migrate apply`` alike; ``StatementBegin/End`` delimit one statement
and ``-- +goose NO TRANSACTION`` runs the file outside a transaction. Real files, the
real CLI, a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pgmig import cli_env, exists, history, query, write

USERS = (
    "-- +goose Up\n"                                                     # 1
    "CREATE TABLE users (id int PRIMARY KEY, email text);\n"            # 2
    "-- +goose StatementBegin\n"                                         # 3
    "CREATE FUNCTION norm_email() RETURNS trigger LANGUAGE plpgsql AS $$\n"  # 4
    "BEGIN\n"                                                            # 5
    "  NEW.email := lower(NEW.email);\n"                                 # 6
    "  RETURN NEW;\n"                                                    # 7
    "END $$\n"                                                           # 8  no ';': goose
    "-- +goose StatementEnd\n"                                           # 9  ends it here
    "CREATE TRIGGER users_norm BEFORE INSERT ON users\n"                 # 10
    "  FOR EACH ROW EXECUTE FUNCTION norm_email();\n"                    # 11
    "\n"
    "-- +goose Down\n"
    "-- +goose StatementBegin\n"
    "DROP TABLE users;\n"
    "DROP FUNCTION norm_email();\n"
    "-- +goose StatementEnd\n"
)
INDEX = (
    "-- +goose NO TRANSACTION\n"
    "-- +goose Up\n"
    "CREATE INDEX CONCURRENTLY users_email ON users (email);\n"
    "-- +goose Down\n"
    "DROP INDEX CONCURRENTLY users_email;\n"
)
SEED = (
    "-- +goose Up\n"
    "INSERT INTO users VALUES (1, 'A@Example.COM');\n"
    "-- +goose Down\n"
    "DELETE FROM users;\n"
    "SELEC this is not read at all;\n"
)


def test_order_reads_only_the_up_section(calctl: Any, project: Path) -> None:
    write(project, "00001_users.sql", USERS)
    write(project, "00002_index.sql", INDEX)
    write(project, "00003_seed.sql", SEED)
    result = calctl("migrate", "lint", "--json", cwd=project)
    problems = result.json()["problems"]
    # the Down sections' DROP TABLE (CAL008), DROP INDEX CONCURRENTLY (CAL007) and
    # syntax error (CAL006) are not the migration's
    assert not [p for p in problems if p["code"] in ("CAL006", "CAL008")], problems
    assert result.returncode == 0, result.stdout
    plan = calctl("migrate", "order", "--json", cwd=project).json()
    assert plan["order"] == "goose" and plan["safe"] is True
    by_path = {f["path"]: f for f in plan["files"]}
    assert by_path["00002_index.sql"]["transaction"] is False  # NO TRANSACTION
    assert by_path["00001_users.sql"]["transaction"] is True
    assert {d["path"] for d in by_path["00003_seed.sql"]["depends_on"]} == {"00001_users.sql"}


def test_apply_runs_the_up_section_only(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "00001_users.sql", USERS)
    write(project, "00002_index.sql", INDEX)
    write(project, "00003_seed.sql", SEED)
    applied = calctl("migrate", "apply", "--json", cwd=project, env=cli_env(pg_url))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    steps = {s["path"]: s for s in applied.json()["steps"]}
    assert all(s["status"] == "applied" for s in steps.values())
    assert steps["00002_index.sql"]["transaction"] is False
    assert "goose NO TRANSACTION" in steps["00002_index.sql"]["reason"]
    assert history(pg_url) == ["00001_users.sql", "00002_index.sql", "00003_seed.sql"]
    # the function goose delimits with StatementBegin/End ran, and the trigger uses it;
    # nothing of the Down sections ran
    assert query(pg_url, "SELECT email FROM users") == [("a@example.com",)]
    assert exists(pg_url, "users_email")
    status = calctl("migrate", "status", "--json", cwd=project, env=cli_env(pg_url))
    assert {f["state"] for f in status.json()["files"]} == {"applied"}


def test_a_failure_in_the_up_section_names_the_files_line(calctl: Any, project: Path,
                                                          pg_url: str) -> None:
    write(project, "00001_users.sql", USERS)
    write(project, "00002_bad.sql",
          "-- +goose Up\n"
          "CREATE TABLE a (id int);\n"
          "INSERT INTO missing_table VALUES (1);\n"
          "-- +goose Down\n"
          "DROP TABLE a;\n")
    failed = calctl("migrate", "apply", "--json", cwd=project, env=cli_env(pg_url))
    assert failed.returncode == 1
    finding = failed.json()
    assert finding["file"] == "migrations/00002_bad.sql"
    assert (finding["line"], finding["column"]) == (3, 13)
    assert history(pg_url) == ["00001_users.sql"]
    assert not exists(pg_url, "a")
