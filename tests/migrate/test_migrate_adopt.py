"""Adopting a database another tool migrated (issue 12, item 14): each tool's history
table, created with the DDL the tool itself runs and filled as the tool fills it, on a
real PostgreSQL where the tool's applied migrations really ran. ``migrate status`` says
whose history it read; ``migrate apply`` applies only the rest (running an adopted file
again would fail: its table exists)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pgmig import cli_env, exists, history, write

from calctl.migrate.adopt import TABLES

USERS = "CREATE TABLE users (id int PRIMARY KEY);\n"
POSTS = "CREATE TABLE posts (id int PRIMARY KEY, user_id int REFERENCES users (id));\n"
TAGS = "CREATE TABLE tags (id int PRIMARY KEY, user_id int REFERENCES users (id));\n"
APPLIED_SCHEMA = USERS + POSTS  # what the tool had applied: the first two files


def goose(up: str) -> str:
    return f"-- +goose Up\n{up}-- +goose Down\nSELECT 1;\n"


def dbmate(up: str) -> str:
    return f"-- migrate:up\n{up}\n-- migrate:down\nSELECT 1;\n"


@dataclass
class Case:
    tool: str
    files: dict[str, str]
    history: str  # the tool's DDL and rows
    applied: list[str]
    pending: list[str]
    args: list[str] = field(default_factory=list)


CASES = [
    Case("prisma", {
        "20250604085536_users/migration.sql": USERS,
        "20250625_posts/migration.sql": POSTS,  # byte order: after 20250604085536
        "20250701000000_tags/migration.sql": TAGS,
        "migration_lock.toml": 'provider = "postgresql"\n'},
        # prisma-engines' DDL for PostgreSQL; the third migration was rolled back
        'CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) NOT NULL,'
        ' "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,'
        ' "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,'
        ' "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),'
        ' "applied_steps_count" INTEGER NOT NULL DEFAULT 0,'
        ' CONSTRAINT "_prisma_migrations_pkey" PRIMARY KEY ("id"));'
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name,"
        " applied_steps_count) VALUES"
        " ('a', repeat('0', 64), now(), '20250604085536_users', 1),"
        " ('b', repeat('0', 64), now(), '20250625_posts', 1);"
        "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name,"
        " rolled_back_at) VALUES ('c', repeat('0', 64), NULL, '20250701000000_tags', now());",
        ["20250604085536_users/migration.sql", "20250625_posts/migration.sql"],
        ["20250701000000_tags/migration.sql"]),
    Case("golang-migrate", {
        "1_users.up.sql": USERS, "1_users.down.sql": "DROP TABLE users;\n",
        "2_posts.up.sql": POSTS, "10_tags.up.sql": TAGS},
        # golang-migrate keeps one row: the version the database is at
        "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY,"
        " dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, false);",
        ["1_users.up.sql", "2_posts.up.sql"], ["10_tags.up.sql"]),
    Case("goose", {
        "00001_users.sql": goose(USERS), "00002_posts.sql": goose(POSTS),
        "00003_tags.sql": goose(TAGS)},
        # goose's PostgreSQL DDL; version 0 is its own; 3 was applied, then rolled back
        "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL,"
        " is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id));"
        "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true),"
        " (2, true), (3, true), (3, false);",
        ["00001_users.sql", "00002_posts.sql"], ["00003_tags.sql"]),
    Case("flyway", {
        "V1__users.sql": USERS, "V1_1__posts.sql": POSTS, "V2__tags.sql": TAGS,
        "R__counts.sql": "CREATE OR REPLACE VIEW counts AS SELECT count(*) FROM users;\n"},
        # Flyway's PostgreSQL DDL; a baseline at 1, then 1.1 migrated
        'CREATE TABLE "flyway_schema_history" ("installed_rank" INT NOT NULL,'
        ' "version" VARCHAR(50), "description" VARCHAR(200) NOT NULL,'
        ' "type" VARCHAR(20) NOT NULL, "script" VARCHAR(1000) NOT NULL, "checksum" INTEGER,'
        ' "installed_by" VARCHAR(100) NOT NULL, "installed_on" TIMESTAMP NOT NULL'
        ' DEFAULT now(), "execution_time" INTEGER NOT NULL, "success" BOOLEAN NOT NULL);'
        'ALTER TABLE "flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk"'
        ' PRIMARY KEY ("installed_rank");'
        'CREATE INDEX "flyway_schema_history_s_idx" ON "flyway_schema_history" ("success");'
        "INSERT INTO flyway_schema_history (installed_rank, version, description, type,"
        " script, checksum, installed_by, execution_time, success) VALUES"
        " (1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL,"
        " 'app', 0, true),"
        " (2, '1.1', 'posts', 'SQL', 'V1_1__posts.sql', 123, 'app', 5, true);",
        ["V1__users.sql", "V1_1__posts.sql"], ["V2__tags.sql", "R__counts.sql"]),
    Case("diesel", {
        "2017-07-12-181524_users/up.sql": USERS,
        "2017-07-12-181524_users/down.sql": "DROP TABLE users;\n",
        "20170713000000_posts/up.sql": POSTS, "20170714000000_tags/up.sql": TAGS},
        # diesel's setup_migration_table.sql; 00000000000000 is diesel's own
        "CREATE TABLE IF NOT EXISTS __diesel_schema_migrations ("
        " version VARCHAR(50) PRIMARY KEY NOT NULL,"
        " run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP);"
        "INSERT INTO __diesel_schema_migrations (version) VALUES ('00000000000000'),"
        " ('20170712181524'), ('20170713000000');",
        ["2017-07-12-181524_users/up.sql", "20170713000000_posts/up.sql"],
        ["20170714000000_tags/up.sql"]),
    Case("sqlx", {"1_users.sql": USERS, "2_posts.sql": POSTS, "3_tags.sql": TAGS},
         # sqlx's PostgreSQL DDL
         "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY,"
         " description TEXT NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),"
         " success BOOLEAN NOT NULL, checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL);"
         "INSERT INTO _sqlx_migrations (version, description, success, checksum,"
         " execution_time) VALUES (1, 'users', true, '\\x00', 1), (2, 'posts', true, '\\x00', 1);",
         ["1_users.sql", "2_posts.sql"], ["3_tags.sql"], ["--sort", "sqlx"]),
    Case("dbmate", {
        "20250101000000_users.sql": dbmate(USERS), "20250102000000_posts.sql": dbmate(POSTS),
        "20250103000000_tags.sql": dbmate(TAGS)},
        # dbmate's PostgreSQL DDL
        "CREATE TABLE IF NOT EXISTS schema_migrations (version varchar(128) primary key);"
        "INSERT INTO schema_migrations VALUES ('20250101000000'), ('20250102000000');",
        ["20250101000000_users.sql", "20250102000000_posts.sql"],
        ["20250103000000_tags.sql"]),
]


def execute(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def setup(project: Path, url: str, case: Case) -> None:
    for name, text in case.files.items():
        write(project, name, text)
    execute(url, case.history + APPLIED_SCHEMA)


@pytest.mark.parametrize("case", CASES, ids=[c.tool for c in CASES])
def test_status_and_apply_adopt_the_tools_history(calctl: Any, project: Path, pg_url: str,
                                                   case: Case) -> None:
    setup(project, pg_url, case)
    env = cli_env(pg_url)
    status = calctl("migrate", "status", "--json", *case.args, cwd=project, env=env)
    assert status.returncode == 0, status.stdout + status.stderr
    doc = status.json()
    assert doc["history"] == case.tool
    assert doc["history_table"] == '"public"."' + TABLES[case.tool] + '"'
    assert doc["ok"] is True
    states = {f["path"]: f["state"] for f in doc["files"]}
    assert states == {**{p: "applied" for p in case.applied},
                      **{p: "pending" for p in case.pending}}
    text = calctl("migrate", "status", *case.args, cwd=project, env=env)
    assert f"history: {case.tool}'s " in text.stdout

    applied = calctl("migrate", "apply", "--json", *case.args, cwd=project, env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    run = applied.json()
    assert run["adopted_from"].startswith(f"{case.tool}'s ")
    steps = {s["path"]: s["status"] for s in run["steps"]}
    assert steps == {**{p: "adopted" for p in case.applied},
                     **{p: "applied" for p in case.pending}}
    assert exists(pg_url, "tags")
    # calctl's own history now holds every file; the next run needs the tool's no more
    assert set(history(pg_url)) == set(case.applied) | set(case.pending)
    again = calctl("migrate", "status", "--json", *case.args, cwd=project, env=env).json()
    assert again["history"] == "calctl"
    assert {f["state"] for f in again["files"]} == {"applied"}
    nothing = calctl("migrate", "apply", *case.args, cwd=project, env=env)
    assert nothing.returncode == 0 and "nothing to apply" in nothing.stdout


def test_without_adopting_the_history_would_run_again(calctl: Any, project: Path,
                                                      pg_url: str) -> None:
    # the proof the adoption matters: in natural order (no tool), calctl reads no other
    # history and the first file fails on the table the tool created
    case = CASES[0]
    setup(project, pg_url, case)
    failed = calctl("migrate", "apply", "--json", "--sort", "natural", cwd=project,
                    env=cli_env(pg_url))
    assert failed.returncode == 1
    assert 'relation "users" already exists' in failed.json()["error"]


def test_adopt_also_counts_when_calctls_table_exists(calctl: Any, project: Path,
                                                     pg_url: str) -> None:
    case = CASES[1]  # golang-migrate
    for name, text in case.files.items():
        write(project, name, text)
    env = cli_env(pg_url)
    # calctl applied the first file; then golang-migrate ran the second
    assert calctl("migrate", "apply", "--to", "1_users.up.sql", cwd=project,
                  env=env).returncode == 0
    execute(pg_url, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY,"
          " dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, false);" + POSTS)
    plain = calctl("migrate", "status", "--json", cwd=project, env=env).json()
    assert plain["history"] == "calctl"
    assert {f["path"]: f["state"] for f in plain["files"]}["2_posts.up.sql"] == "pending"
    adopted = calctl("migrate", "status", "--json", "--adopt", cwd=project, env=env).json()
    assert adopted["history"] == "calctl+golang-migrate"
    assert {f["path"]: f["state"] for f in adopted["files"]} == {
        "1_users.up.sql": "applied", "2_posts.up.sql": "applied", "10_tags.up.sql": "pending"}
    run = calctl("migrate", "apply", "--json", "--adopt", cwd=project, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert {s["path"]: s["status"] for s in run.json()["steps"]} == {
        "2_posts.up.sql": "adopted", "10_tags.up.sql": "applied"}
    events = calctl("events", "--json", "--type", "migrate.applied", cwd=project, env=env)
    last = json.loads(events.stdout.splitlines()[-1])
    assert last["data"]["adopted"] == ["2_posts.up.sql"]
    assert last["data"]["files"] == ["10_tags.up.sql"]
    assert last["data"]["adopted_from"].startswith("golang-migrate's ")


@pytest.mark.parametrize(("tool", "files", "bad", "words"), [
    ("golang-migrate", {"1_users.up.sql": USERS, "2_posts.up.sql": POSTS},
     "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY,"
     " dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, true);",
     ["version 2", "dirty", "migrate force"]),
    ("prisma", {"1_users/migration.sql": USERS, "2_posts/migration.sql": POSTS},
     'CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY,'
     ' "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ,'
     ' "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ,'
     ' "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),'
     ' "applied_steps_count" INTEGER NOT NULL DEFAULT 0);'
     "INSERT INTO _prisma_migrations (id, checksum, migration_name)"
     " VALUES ('a', '0', '2_posts');", ["2_posts", "never finished", "migrate resolve"]),
])
def test_a_history_the_tool_would_refuse_is_a_clear_error(
        calctl: Any, project: Path, pg_url: str, tool: str, files: dict[str, str], bad: str,
        words: list[str]) -> None:
    for name, text in files.items():
        write(project, name, text)
    execute(pg_url, bad)
    env = cli_env(pg_url)
    for command in ("status", "apply"):
        result = calctl("migrate", command, cwd=project, env=env)
        assert result.returncode == 3, result.stdout + result.stderr
        assert all(w in result.stderr for w in words), result.stderr
    assert not exists(pg_url, "users"), "nothing ran"
    assert history(pg_url) == []


def test_adopt_without_the_tools_table_is_refused(calctl: Any, project: Path,
                                                  pg_url: str) -> None:
    write(project, "1_users.up.sql", USERS)
    result = calctl("migrate", "apply", "--adopt", "--json", cwd=project,
                    env=cli_env(pg_url))
    assert result.returncode == 3
    error = result.json()
    assert error["kind"] == "error" and "schema_migrations" in error["message"]
    assert not exists(pg_url, "users")


def test_adopt_needs_a_tool(calctl: Any, project: Path, pg_url: str) -> None:
    write(project, "1_users.sql", USERS)  # plain numbered files: natural order, no tool
    result = calctl("migrate", "status", "--adopt", cwd=project, env=cli_env(pg_url))
    assert result.returncode == 2 and "--sort" in result.stderr
