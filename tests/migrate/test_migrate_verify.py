"""``calctl migrate verify``: the whole directory on a throwaway database, cleaned up after."""

from __future__ import annotations

import json
import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgmig import cli_env, query, spawn, wait_for, write

# 001 uses "users", which 002 creates: filename order fails, the dependency order works.
ORDERS = (
    "-- orders belong to users\n"
    "CREATE TABLE orders (\n"
    "    id serial PRIMARY KEY,\n"
    "    user_id int REFERENCES users (id)\n"
    ");\n"
)
USERS = "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);\n"



@pytest.fixture
def misnumbered(project: Path) -> Path:
    write(project, "001_orders.sql", ORDERS)
    write(project, "002_users.sql", USERS)
    return project


def _scratch_databases(server: str) -> list[Any]:
    return query(server, "SELECT datname FROM pg_database WHERE datname LIKE 'calctl_verify_%%'")


def test_filename_order_fails_at_the_right_file_and_line(
        calctl: Any, misnumbered: Path, pg_server_url: str) -> None:
    result = calctl("migrate", "verify", "--order", "filename", "--database-url", pg_server_url,
                    "--json", cwd=misnumbered, env=cli_env())
    assert result.returncode == 1, result.stderr
    finding = result.json()
    assert finding["kind"] == "finding" and finding["source"] == "migration"
    assert finding["check"] == "migrate.verify"
    assert finding["file"] == "migrations/001_orders.sql"
    assert (finding["line"], finding["column"]) == (4, 28)  # REFERENCES users
    assert finding["sqlstate"] == "42P01"
    assert finding["data"]["throwaway"] == "server"
    assert _scratch_databases(pg_server_url) == [], "the scratch database was dropped"


def test_plan_document_order_succeeds(calctl: Any, misnumbered: Path,
                                      pg_server_url: str) -> None:
    plan = {"kind": "migration-plan", "version": 1, "directory": "migrations",
            "files": [{"path": "002_users.sql", "position": 0, "moved_from": 1},
                      {"path": "001_orders.sql", "position": 1, "moved_from": 0}]}
    (misnumbered / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    result = calctl("migrate", "verify", "--plan", "plan.json", "--database-url",
                    pg_server_url, "--json", cwd=misnumbered, env=cli_env())
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["kind"] == "migration-run" and doc["command"] == "verify"
    assert [s["path"] for s in doc["steps"]] == ["002_users.sql", "001_orders.sql"]
    # the same document from stdin
    piped = calctl("migrate", "verify", "--plan", "-", "--database-url", pg_server_url,
                   cwd=misnumbered, env=cli_env(), input=json.dumps(plan))
    assert piped.returncode == 0, piped.stderr
    assert "verified 2 files" in piped.stdout
    assert _scratch_databases(pg_server_url) == []


def test_stale_plan_document_is_refused(calctl: Any, misnumbered: Path) -> None:
    plan = {"kind": "migration-plan", "version": 1, "directory": "migrations",
            "files": [{"path": "002_users.sql", "position": 0}]}
    result = calctl("migrate", "verify", "--plan", "-", cwd=misnumbered, env=cli_env(),
                    input=json.dumps(plan))
    assert result.returncode == 2
    assert "001_orders.sql is not in the plan" in result.stderr


def test_plan_order_succeeds(calctl: Any, misnumbered: Path, pg_server_url: str) -> None:
    result = calctl("migrate", "verify", "--order", "plan", "--database-url", pg_server_url,
                    "--json", cwd=misnumbered, env=cli_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert [s["path"] for s in result.json()["steps"]] == ["002_users.sql", "001_orders.sql"]


def test_apply_uses_the_plan_order(calctl: Any, misnumbered: Path, pg_url: str) -> None:
    """apply takes the order from build_plan, not filename order (which fails here)."""
    result = calctl("migrate", "apply", "--json", cwd=misnumbered, env=cli_env(pg_url))
    assert result.returncode == 0, result.stdout + result.stderr
    assert [s["path"] for s in result.json()["steps"]] == ["002_users.sql", "001_orders.sql"]


@pytest.fixture
def reachable_tmp() -> Iterator[Path]:
    """A temp dir the cluster's unprivileged user can reach (pytest's own are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="calctl-test-", dir="/tmp"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def test_initdb_cluster_with_contrib_extension(calctl: Any, project: Path,
                                               reachable_tmp: Path) -> None:
    write(project, "001_ext.sql", "CREATE EXTENSION IF NOT EXISTS hstore;\n"
          "CREATE TABLE kv (h hstore);\n")
    write(project, "002_idx.sql", "CREATE INDEX CONCURRENTLY kv_h ON kv (h);\n")
    result = calctl("-v", "migrate", "verify", "--throwaway", "cluster", "--json", cwd=project,
                    env={**cli_env(), "TMPDIR": str(reachable_tmp)})
    assert result.returncode == 0, result.stdout + result.stderr
    doc = result.json()
    assert doc["throwaway"] == "cluster"
    assert [s["transaction"] for s in doc["steps"]] == [True, False]
    if os.geteuid() == 0:
        assert "runs as user" in result.stderr
    assert list(reachable_tmp.iterdir()) == [], "the temporary cluster was removed"


def test_embedded_server_names_the_missing_extension(calctl: Any, project: Path,
                                                     tmp_path: Path) -> None:
    write(project, "001_ext.sql", "CREATE TABLE t (id int);\n\nCREATE EXTENSION hstore;\n")
    result = calctl("migrate", "verify", "--throwaway", "embedded", "--json", cwd=project,
                    env={**cli_env(), "TMPDIR": str(tmp_path)})
    assert result.returncode == 1, result.stdout + result.stderr
    finding = result.json()
    assert finding["file"] == "migrations/001_ext.sql" and finding["line"] == 3
    assert "hstore" in finding["hint"] and "contrib" in finding["hint"]
    assert finding["data"]["throwaway"] == "embedded"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("calctl-verify")]


def test_ctrl_c_cleans_up_the_scratch_database(project: Path, pg_server_url: str) -> None:
    write(project, "001_slow.sql", "SELECT pg_sleep(30);\n")
    proc = spawn("migrate", "verify", "--database-url", pg_server_url, cwd=project, url="")

    def sleeping() -> bool:
        return bool(query(pg_server_url,
                          "SELECT 1 FROM pg_stat_activity WHERE application_name LIKE"
                          " 'calctl migrate verify%%' AND query LIKE '%%pg_sleep%%'"))

    try:
        wait_for(sleeping, what="verify to be running the slow file")
        assert _scratch_databases(pg_server_url)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert _scratch_databases(pg_server_url) == []


def test_sigterm_cleans_up_the_temporary_cluster(project: Path, reachable_tmp: Path) -> None:
    write(project, "001_slow.sql", "SELECT pg_sleep(30);\n")
    import subprocess

    from pgmig import calctl_executable

    proc = subprocess.Popen([*calctl_executable(), "migrate", "verify", "--throwaway", "cluster"],
                            cwd=project, env={**cli_env(), "TMPDIR": str(reachable_tmp)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any((d / "data" / "postmaster.pid").exists()
                             for d in reachable_tmp.iterdir()), timeout=60,
                 what="the temporary cluster to start")
        import time

        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert proc.returncode == 143  # 128 + SIGTERM
    assert list(reachable_tmp.iterdir()) == []
