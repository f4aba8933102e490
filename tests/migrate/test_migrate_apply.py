"""``calctl migrate apply`` and ``status`` against a real PostgreSQL database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pgmig import cli_env, exists, history, query, write

THIRD_STATEMENT_FAILS = (
    "-- users and what they own (é)\n"          # 1
    "CREATE TABLE owners (id int);\n"          # 2  statement 1
    "\n"                                       # 3
    "CREATE TABLE things (\n"                  # 4  statement 2
    "    id int\n"                             # 5
    ");\n"                                     # 6
    "INSERT INTO things (id)\n"                # 7  statement 3
    "  SELECT 1\n"                             # 8
    "    FROM 'ü', missing_table;\n"           # 9
    "CREATE TABLE never (id int);\n"           # 10
)


def run(calctl: Any, project: Path, url: str, *args: str) -> Any:
    return calctl("migrate", "apply", *args, cwd=project, env=cli_env(url))


def test_apply_then_reapply_is_a_no_op(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_users.sql", "CREATE TABLE users (id serial PRIMARY KEY, name text);\n")
    write(project, "002_posts.sql",
          "CREATE TABLE posts (id serial, user_id int REFERENCES users (id));\n"
          "INSERT INTO users (name) VALUES ('100%s');\n")
    first = run(calctl, project, pg_url, "--json")
    assert first.returncode == 0, first.stderr
    doc = first.json()
    assert doc["kind"] == "migration-run"
    assert [s["path"] for s in doc["steps"]] == ["001_users.sql", "002_posts.sql"]
    assert all(s["status"] == "applied" and s["transaction"] for s in doc["steps"])
    assert history(pg_url) == ["001_users.sql", "002_posts.sql"]
    rows = query(pg_url, "SELECT path, length(checksum), duration_ms >= 0, execution_order,"
                 " calctl_version, applied_at IS NOT NULL FROM calctl_migrations"
                 " ORDER BY execution_order")
    assert [r[0] for r in rows] == ["001_users.sql", "002_posts.sql"]
    assert all(r[1] == 64 and r[2] and r[4] and r[5] for r in rows)
    assert [r[3] for r in rows] == [1, 2]

    again = run(calctl, project, pg_url)
    assert again.returncode == 0, again.stderr
    assert "nothing to apply" in again.stdout
    assert query(pg_url, "SELECT count(*) FROM users") == [(1,)]


def test_human_output_lists_what_was_applied(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "1_a.sql", "CREATE TABLE a (id int);\n")
    result = run(calctl, project, pg_url)
    assert result.returncode == 0, result.stderr
    assert "applied" in result.stdout and "1_a.sql" in result.stdout


def test_changed_file_is_refused_then_repaired(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    assert run(calctl, project, pg_url).returncode == 0
    write(project, "001_a.sql", "CREATE TABLE a (id int);\r\n")  # CRLF only: same checksum
    assert run(calctl, project, pg_url).returncode == 0
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n-- reviewed\n")
    write(project, "002_b.sql", "CREATE TABLE b (id int);\n")

    refused = run(calctl, project, pg_url, "--json")
    assert refused.returncode == 1
    finding = refused.json()
    assert finding["kind"] == "finding" and finding["source"] == "migration"
    assert finding["file"] == "migrations/001_a.sql"
    assert "changed after it was applied" in finding["error"]
    assert "--repair" in finding["hint"]
    assert not exists(pg_url, "b"), "nothing runs while a file is changed"

    status = calctl("migrate", "status", "--json", cwd=project, env=cli_env(pg_url))
    assert status.returncode == 1
    states = {f["path"]: f["state"] for f in status.json()["files"]}
    assert states == {"001_a.sql": "changed", "002_b.sql": "pending"}

    repaired = run(calctl, project, pg_url)
    assert repaired.returncode == 1  # still refused without --repair
    repaired = run(calctl, project, pg_url, "--repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "+-- reviewed" in repaired.stdout, "the difference is shown"
    assert exists(pg_url, "b")
    status = calctl("migrate", "status", "--json", cwd=project, env=cli_env(pg_url))
    assert status.returncode == 0
    assert {f["state"] for f in status.json()["files"]} == {"applied"}


def test_out_of_order_file_needs_the_flag(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    write(project, "003_c.sql", "CREATE TABLE c (id int);\n")
    assert run(calctl, project, pg_url).returncode == 0
    write(project, "002_b.sql", "CREATE TABLE b (id int);\n")

    refused = run(calctl, project, pg_url, "--json")
    assert refused.returncode == 1
    finding = refused.json()
    assert finding["file"] == "migrations/002_b.sql"
    assert "003_c.sql" in finding["error"] and "--out-of-order" in finding["hint"]
    assert not exists(pg_url, "b")

    allowed = run(calctl, project, pg_url, "--out-of-order", "--json")
    assert allowed.returncode == 0, allowed.stderr
    assert [s["path"] for s in allowed.json()["steps"]] == ["002_b.sql"]
    assert history(pg_url) == ["001_a.sql", "003_c.sql", "002_b.sql"]


def test_failing_file_names_line_and_column_of_the_third_statement(
        calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_ok.sql", "CREATE TABLE ok (id int);\n")
    write(project, "002_bad.sql", THIRD_STATEMENT_FAILS)
    write(project, "003_after.sql", "CREATE TABLE after (id int);\n")

    result = run(calctl, project, pg_url, "--json")
    assert result.returncode == 1
    finding = result.json()
    assert finding["kind"] == "finding" and finding["source"] == "migration"
    assert finding["file"] == "migrations/002_bad.sql"
    assert (finding["line"], finding["column"]) == (9, 10)  # the quoted 'ü' literal
    assert finding["sqlstate"] == "42601"
    assert finding["data"]["statement"] == 3
    assert finding["data"]["applied"] == ["001_ok.sql"]
    # rolled back: nothing of the failing file, nothing after it, no history row for it
    assert exists(pg_url, "ok")
    assert not exists(pg_url, "owners") and not exists(pg_url, "things")
    assert not exists(pg_url, "after")
    assert history(pg_url) == ["001_ok.sql"]

    # the finding feeds `calctl report -`: it is a valid document of its kind
    from calctl.documents import Finding, load_document

    assert isinstance(load_document(result.stdout, accept=(Finding,)), Finding)

    status = calctl("migrate", "status", "--json", cwd=project, env=cli_env(pg_url))
    assert status.returncode == 1
    states = {f["path"]: f["state"] for f in status.json()["files"]}
    assert states == {"001_ok.sql": "applied", "002_bad.sql": "failed",
                      "003_after.sql": "pending"}

    human = run(calctl, project, pg_url)
    assert human.returncode == 1
    assert "002_bad.sql:9:10" in human.stderr
    assert "FROM 'ü', missing_table" in human.stderr

    write(project, "002_bad.sql", THIRD_STATEMENT_FAILS.replace("'ü', ", ""))
    fixed = run(calctl, project, pg_url, "--json")
    assert fixed.returncode == 1
    assert (fixed.json()["line"], fixed.json()["column"]) == (9, 10)  # missing_table now
    assert fixed.json()["sqlstate"] == "42P01"


def test_runtime_error_without_position_points_at_its_statement(
        calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_div.sql",
          "CREATE TABLE n (v int);\nINSERT INTO n VALUES (1);\n\n   UPDATE n\n   SET v = v / 0;\n")
    result = run(calctl, project, pg_url, "--json")
    assert result.returncode == 1
    finding = result.json()
    assert finding["sqlstate"] == "22012"
    assert (finding["line"], finding["column"]) == (4, 4)
    assert finding["data"]["statement"] == 3


def test_non_transactional_file_runs_statement_by_statement(
        calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_t.sql", "CREATE TABLE t (a int);\n")
    write(project, "002_idx.sql", "CREATE INDEX CONCURRENTLY t_a ON t (a);\n")
    write(project, "003_marked.sql",
          "-- calctl: no-transaction\nCREATE TABLE kept (a int);\nSELECT 1 / 0;\n")
    result = run(calctl, project, pg_url, "--json")
    assert result.returncode == 1
    finding = result.json()
    assert finding["file"] == "migrations/003_marked.sql" and finding["line"] == 3
    assert finding["data"]["partially_applied"] is True
    assert exists(pg_url, "t_a")
    assert exists(pg_url, "kept"), "autocommit: statements before the failure stay"
    assert history(pg_url) == ["001_t.sql", "002_idx.sql"]
    assert query(pg_url, "SELECT transactional FROM calctl_migrations WHERE path = %s",
                 ("002_idx.sql",)) == [(False,)]

    write(project, "003_marked.sql",
          "-- calctl: no-transaction\nCREATE TABLE IF NOT EXISTS kept (a int);\n")
    write(project, "004_x.autocommit.sql", "VACUUM t;\n")
    again = run(calctl, project, pg_url, "--json")
    assert again.returncode == 0, again.stderr
    steps = {s["path"]: s for s in again.json()["steps"]}
    assert not steps["003_marked.sql"]["transaction"]
    assert "no-transaction" in steps["003_marked.sql"]["reason"]
    assert not steps["004_x.autocommit.sql"]["transaction"]


def test_file_with_its_own_begin_commit_still_runs_in_one_transaction(
        calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_tx.sql",
          "BEGIN;\nCREATE TABLE tx (a int);\n"
          "CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1;\nEND;\n$$;\n"
          "SELECT missing();\nCOMMIT;\n")
    result = run(calctl, project, pg_url, "--json")
    assert result.returncode == 1
    assert result.json()["line"] == 8
    assert not exists(pg_url, "tx"), "the file's own COMMIT did not split it"
    assert history(pg_url) == []


def catalog(url: str) -> list[tuple[Any, ...]]:
    """Everything a migration could leave behind: relations, columns, functions, types, rows."""
    return query(url, """
        SELECT 'rel', n.nspname || '.' || c.relname || ':' || c.relkind::text
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%'
        UNION ALL
        SELECT 'col', attrelid::regclass::text || '.' || attname || ':' || atttypid::regtype
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND a.attnum > 0
        UNION ALL
        SELECT 'fn', p.oid::regprocedure::text FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'
        UNION ALL
        SELECT 'type', t.typname FROM pg_type t
          JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public'
        UNION ALL
        SELECT 'schema', nspname FROM pg_namespace
        UNION ALL
        SELECT 'rows', count(*)::text FROM base
        ORDER BY 1, 2""")


def test_dry_run_leaves_the_database_unchanged(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_base.sql", "CREATE TABLE base (id int);\n")
    assert run(calctl, project, pg_url).returncode == 0
    write(project, "002_more.sql",
          "CREATE SCHEMA extra;\nCREATE TYPE mood AS ENUM ('ok');\n"
          "ALTER TABLE base ADD COLUMN m mood;\nINSERT INTO base VALUES (1, 'ok');\n"
          "CREATE FUNCTION h() RETURNS int LANGUAGE sql AS 'SELECT 1';\n")
    write(project, "003_uses_more.sql", "CREATE TABLE extra.t AS SELECT * FROM base;\n")
    write(project, "004_idx.sql", "CREATE INDEX CONCURRENTLY base_id ON base (id);\n")
    before = catalog(pg_url)
    history_before = query(pg_url, "SELECT * FROM calctl_migrations")

    result = run(calctl, project, pg_url, "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["dry_run"] is True
    statuses = {s["path"]: s["status"] for s in doc["steps"]}
    assert statuses == {"002_more.sql": "dry_run", "003_uses_more.sql": "dry_run",
                        "004_idx.sql": "skipped"}
    assert catalog(pg_url) == before
    assert query(pg_url, "SELECT * FROM calctl_migrations") == history_before

    write(project, "005_bad.sql", "CREATE TABLE x (id int);\nSELECT * FROM nowhere;\n")
    failed = run(calctl, project, pg_url, "--dry-run", "--json")
    assert failed.returncode == 1
    assert failed.json()["file"] == "migrations/005_bad.sql"
    assert failed.json()["line"] == 2
    assert failed.json()["check"] == "migrate.apply.dry-run"
    assert catalog(pg_url) == before
    assert query(pg_url, "SELECT * FROM calctl_migrations") == history_before


def test_dry_run_on_a_fresh_database_creates_nothing(
        calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    result = run(calctl, project, pg_url, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "would apply 1" in result.stdout
    assert not exists(pg_url, "calctl_migrations") and not exists(pg_url, "a")


def test_to_stops_after_the_named_file(calctl: Any, project: Path, pg_url: str) -> None:
    for i in range(1, 5):
        write(project, f"00{i}_t{i}.sql", f"CREATE TABLE t{i} (id int);\n")
    result = run(calctl, project, pg_url, "--to", "002_t2.sql")
    assert result.returncode == 0, result.stderr
    assert history(pg_url) == ["001_t1.sql", "002_t2.sql"]
    unknown = run(calctl, project, pg_url, "--to", "999_nope.sql")
    assert unknown.returncode == 2
    assert "999_nope.sql" in unknown.stderr


def test_status_reports_missing_locally(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    write(project, "002_b.sql", "CREATE TABLE b (id int);\n")
    assert run(calctl, project, pg_url).returncode == 0
    (project / "migrations" / "002_b.sql").unlink()
    write(project, "003_c.sql", "CREATE TABLE c (id int);\n")
    result = calctl("migrate", "status", "--json", cwd=project, env=cli_env(pg_url))
    assert result.returncode == 1
    doc = result.json()
    assert doc["kind"] == "migration-status" and doc["ok"] is False
    assert {f["path"]: f["state"] for f in doc["files"]} == {
        "001_a.sql": "applied", "003_c.sql": "pending", "002_b.sql": "missing-locally"}
    human = calctl("migrate", "status", cwd=project, env=cli_env(pg_url))
    assert human.returncode == 1 and "missing-locally" in human.stdout


def test_status_on_an_untouched_database(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    result = calctl("migrate", "status", "--json", "--database-url", pg_url, cwd=project,
                    env=cli_env())
    assert result.returncode == 0, result.stderr
    assert [f["state"] for f in result.json()["files"]] == ["pending"]
    assert not exists(pg_url, "calctl_migrations"), "status never writes"


def test_search_path_change_in_a_file_does_not_move_the_history(
        calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "001_schema.sql", "CREATE SCHEMA app;\nSET search_path = app;\n"
          "CREATE TABLE inside (id int);\n")
    write(project, "002_more.sql", "CREATE TABLE public_one (id int);\n")
    result = run(calctl, project, pg_url)
    assert result.returncode == 0, result.stderr
    assert history(pg_url) == ["001_schema.sql", "002_more.sql"]
    assert exists(pg_url, "app.inside")
    assert exists(pg_url, "public.public_one"), "the next file starts with a fresh session"


def test_apply_leaves_events_in_the_audit_trail(calctl: Any, project: Path, pg_url: str) -> None:
    import json

    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    assert run(calctl, project, pg_url).returncode == 0
    write(project, "002_bad.sql", "SELECT * FROM nowhere;\n")
    assert run(calctl, project, pg_url).returncode == 1
    events = calctl("events", "--json", cwd=project, env=cli_env())
    assert events.returncode == 0, events.stderr
    seen = [json.loads(line) for line in events.stdout.splitlines()]
    assert [e["type"] for e in seen] == ["migrate.applied", "migrate.apply.failed"]
    assert seen[0]["data"]["files"] == ["001_a.sql"]
    assert seen[1]["data"]["file"] == "migrations/002_bad.sql"
    assert seen[1]["data"]["sqlstate"] == "42P01"
