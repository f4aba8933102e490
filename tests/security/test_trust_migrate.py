"""Issue 10 items 4, 5 and part of 11: a migration is applied whole or not at all.

Every test runs the real ``calctl migrate apply`` (or verify) against real
PostgreSQL and then reads the catalog: a refused file left none of its objects
behind and no success row in ``calctl_migrations``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def _env(url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    env.pop("DATABASE_URL", None)
    env["COLUMNS"] = "200"
    if url:
        env["DATABASE_URL"] = url
    return env


def _query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql, params or None).fetchall())


def _missing(url: str, *tables: str) -> bool:
    """True when none of ``tables`` exists (checked in the catalog)."""
    rows = _query(url, "SELECT count(*) FROM unnest(%s::text[]) t WHERE to_regclass(t) IS NOT NULL",
                  (list(tables),))
    return rows[0][0] == 0


def _succeeded(url: str) -> list[str]:
    if not _query(url, "SELECT to_regclass('calctl_migrations') IS NOT NULL")[0][0]:
        return []
    return [r[0] for r in _query(url, "SELECT path FROM calctl_migrations WHERE success"
                                      " ORDER BY execution_order")]


def _write(project: Path, name: str, text: str) -> None:
    (project / "migrations" / name).write_text(text, encoding="utf-8")


def _apply(calctl: Any, project: Path, url: str, *args: str) -> Any:
    return calctl("migrate", "apply", "--database-url", url, "--json", *args, cwd=project,
                  env=_env())


# ---------------------------------------------------------------- item 4

REFUSED = [
    # (file text, tables it would create, line of the offending statement, words of the error)
    ("create table b1(id int); commit; create table b2(id int); select * from nosuch;\n",
     ("b1", "b2"), 1, "COMMIT"),
    ("create table r1(id int); rollback; create table r2(id int);\n", ("r1", "r2"), 1,
     "ROLLBACK"),
    ("create table c1(id int);\nCOMMIT AND CHAIN;\ncreate table c2(id int);\n", ("c1", "c2"),
     2, "COMMIT AND CHAIN"),
    ("BEGIN;\ncreate table x1(id int);\nROLLBACK;\n", ("x1",), 3, "ROLLBACK"),
    ("create table e1(id int);\nEND;\ncreate table e2(id int);\n", ("e1", "e2"), 2, "END"),
    ("create table a1(id int); abort; create table a2(id int);\n", ("a1", "a2"), 1, "ABORT"),
    ("create table s1(id int);\nsavepoint p;\ncreate table s2(id int);\n"
     "rollback to savepoint p;\n", ("s1", "s2"), 2, "SAVEPOINT"),
    ("create table s3(id int);\n  create table s4(id int); release savepoint p;\n",
     ("s3", "s4"), 2, "RELEASE SAVEPOINT"),
    ("create table p1(id int);\nprepare transaction 'calctl_t';\n", ("p1",), 2,
     "PREPARE TRANSACTION"),
    ("create table g1(id int);\nBEGIN;\ncreate table g2(id int);\nCOMMIT;\n", ("g1", "g2"), 2,
     "BEGIN"),
    # an autocommit file is refused before its first statement runs, too
    ("-- calctl: no-transaction\ncreate table n1(id int);\ncommit;\n"
     "create index concurrently n1_i on n1 (id);\n", ("n1", "n1_i"), 3, "COMMIT"),
]


@pytest.mark.parametrize(("text", "tables", "line", "words"), REFUSED,
                         ids=[r[3].lower().replace(" ", "-") + f"-{i}"
                              for i, r in enumerate(REFUSED)])
def test_transaction_control_inside_a_file_refuses_it_before_anything_runs(
        calctl: Any, project: Path, pg_url: str, text: str, tables: tuple[str, ...],
        line: int, words: str) -> None:
    _write(project, "001_ok.sql", "create table ok(id int);\n")
    _write(project, "002_tx.sql", text)
    _write(project, "003_after.sql", "create table after_it(id int);\n")
    result = _apply(calctl, project, pg_url)
    assert result.returncode == 1, result.stderr
    finding = result.json()
    assert finding["kind"] == "finding"
    assert (finding["file"], finding["line"]) == ("migrations/002_tx.sql", line)
    assert words in finding["error"]
    assert finding["data"]["kind"] == "transaction-control"
    assert _missing(pg_url, *tables, "after_it"), "nothing of the file, nothing after it"
    assert not _missing(pg_url, "ok")
    assert _succeeded(pg_url) == ["001_ok.sql"]
    assert _query(pg_url, "SELECT count(*) FROM pg_prepared_xacts") == [(0,)]

    human = calctl("migrate", "apply", "--database-url", pg_url, cwd=project, env=_env())
    assert human.returncode == 1
    assert "002_tx.sql:" in human.stderr and "nothing of the file ran" in human.stderr
    assert "Traceback" not in human.stderr


def test_dry_run_and_verify_refuse_what_apply_refuses(
        calctl: Any, project: Path, pg_url: str, pg_server_url: str) -> None:
    _write(project, "001_tx.sql", "create table d1(id int); commit; create table d2(id int);\n")
    for args in (("apply", "--dry-run", "--database-url", pg_url),
                 ("verify", "--database-url", pg_server_url)):
        result = calctl("migrate", *args, "--json", cwd=project, env=_env())
        assert result.returncode == 1, result.stderr
        finding = result.json()
        assert (finding["file"], finding["line"]) == ("migrations/001_tx.sql", 1)
        assert "COMMIT" in finding["error"]
    assert _missing(pg_url, "d1", "d2") and _succeeded(pg_url) == []

    # a dry run skips autocommit files, but still refuses one apply would refuse
    (project / "migrations" / "001_tx.sql").unlink()
    _write(project, "001_auto.autocommit.sql", "create table d3(id int);\nrollback;\n")
    result = calctl("migrate", "apply", "--dry-run", "--database-url", pg_url, "--json",
                    cwd=project, env=_env())
    assert result.returncode == 1, result.stdout
    assert result.json()["line"] == 2
    assert _missing(pg_url, "d3")


def test_leading_begin_and_trailing_commit_still_apply(
        calctl: Any, project: Path, pg_url: str) -> None:
    _write(project, "001_begin.sql", "BEGIN;\ncreate table x(id int);\nCOMMIT;\n")
    _write(project, "002_start.sql", "start transaction; create table y(id int); end;\n")
    _write(project, "003_plpgsql.sql",
           "create function f() returns int language plpgsql as $$\nbegin\n  return 1;\n"
           "end;\n$$;\n")
    result = _apply(calctl, project, pg_url)
    assert result.returncode == 0, result.stderr
    assert not _missing(pg_url, "x") and not _missing(pg_url, "y")
    assert _succeeded(pg_url) == ["001_begin.sql", "002_start.sql", "003_plpgsql.sql"]


def test_a_procedure_that_commits_cannot_split_a_file(
        calctl: Any, project: Path, pg_url: str) -> None:
    """Transaction control hidden in a procedure or DO block is PostgreSQL's to refuse:
    inside calctl's transaction it is an error, and the file is rolled back whole."""
    _write(project, "001_proc.sql",
           "create procedure committing() language plpgsql as $$ begin commit; end $$;\n")
    _write(project, "002_call.sql", "create table h1(id int);\ncall committing();\n"
                                    "create table h2(id int);\n")
    _write(project, "003_do.sql", "create table h3(id int);\ndo $$ begin commit; end $$;\n")
    result = _apply(calctl, project, pg_url)
    assert result.returncode == 1
    assert result.json()["file"] == "migrations/002_call.sql"
    assert "invalid transaction termination" in result.json()["error"]
    assert _missing(pg_url, "h1", "h2", "h3")
    assert _succeeded(pg_url) == ["001_proc.sql"]
    (project / "migrations" / "002_call.sql").unlink()
    result = _apply(calctl, project, pg_url)
    assert result.returncode == 1 and result.json()["file"] == "migrations/003_do.sql"
    assert _missing(pg_url, "h3")


def test_concurrently_files_still_run_statement_by_statement(
        calctl: Any, project: Path, pg_url: str) -> None:
    _write(project, "001_t.sql", "create table k(id int);\n")
    _write(project, "002_idx.sql", "create index concurrently k_i on k (id);\n")
    _write(project, "003_partial.sql",
           "create index concurrently k_j on k (id);\nselect 1 / 0;\n")
    result = _apply(calctl, project, pg_url)
    assert result.returncode == 1
    finding = result.json()
    assert (finding["file"], finding["line"]) == ("migrations/003_partial.sql", 2)
    assert finding["data"]["partially_applied"] is True
    assert not _missing(pg_url, "k_i") and not _missing(pg_url, "k_j")
    assert _succeeded(pg_url) == ["001_t.sql", "002_idx.sql"]


# ---------------------------------------------------------------- item 5

SYNTAX = [
    ("CREATE TABLE a (id int);\nSELEC 2;\n", ("a",), (2, 1)),
    ("CREATE TABLE a (id int);\nSELEC 2\n", ("a",), (2, 1)),
    ("CREATE TABLE a (id int);\nCREATE TABLE b (id int);\nSELECT 'unterminated;\n",
     ("a", "b"), (3, 8)),
    ("CREATE TABLE a (id int);\n/* an unterminated comment\n", ("a",), (2, 1)),
    ("CREATE TABLE é (id int);\nCREATE TABLE b (id int) xyz;\n", ("é", "b"), (2, 25)),
    # an autocommit file: nothing of it runs either
    ("CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_i ON a (id);\nSELEC 2;\n",
     ("a", "a_i"), (3, 1)),
]


@pytest.mark.parametrize(("text", "tables", "where"), SYNTAX,
                         ids=[f"syntax-{i}" for i in range(len(SYNTAX))])
def test_a_statement_postgres_rejects_fails_the_file_before_it_runs(
        calctl: Any, project: Path, pg_url: str, text: str, tables: tuple[str, ...],
        where: tuple[int, int]) -> None:
    _write(project, "001_bad.sql", text)
    result = _apply(calctl, project, pg_url)
    assert result.returncode == 1, result.stdout
    finding = result.json()
    assert finding["file"] == "migrations/001_bad.sql"
    assert (finding["line"], finding["column"]) == where
    assert finding["sqlstate"] == "42601"
    assert finding["data"]["kind"] == "parse-error"
    assert "partially_applied" not in finding["data"]
    assert _missing(pg_url, *tables)
    assert _succeeded(pg_url) == []
    assert _query(pg_url, "SELECT success FROM calctl_migrations") == [(False,)]

    # migrate order flags the same file and line (CAL006); verify agrees with apply
    order = calctl("migrate", "lint", "--json", cwd=project, env=_env())
    problems = [p for p in order.json()["problems"] if p["code"] == "CAL006"]
    assert problems and problems[0]["line"] == where[0]
    verify = calctl("migrate", "verify", "--json", cwd=project, env=_env(pg_url))
    assert verify.returncode == 1
    assert (verify.json()["line"], verify.json()["column"]) == where


# ---------------------------------------------------------------- item 11

def test_symlink_loop_in_the_migration_directory_is_refused(
        calctl: Any, project: Path, pg_url: str) -> None:
    _write(project, "001_a.sql", "create table loop_a(id int);\n")
    (project / "migrations" / "again").symlink_to("..")
    (project / "migrations" / "sub").symlink_to(".")
    for args in (("order",), ("apply", "--database-url", pg_url)):
        result = calctl("migrate", *args, cwd=project, env=_env())
        assert result.returncode == 2, result.stderr
        first = result.stderr.splitlines()[0]
        assert "symlink loop" in first and ("migrations/sub" in first
                                            or "migrations/again" in first)
        assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert _missing(pg_url, "loop_a")
    # a link that loops on itself
    (project / "migrations" / "again").unlink()
    (project / "migrations" / "sub").unlink()
    (project / "migrations" / "002_self.sql").symlink_to("002_self.sql")
    result = calctl("migrate", "order", cwd=project, env=_env())
    assert result.returncode == 2
    assert "002_self.sql:1: cannot read: the symlink is a symlink loop" in result.stderr


def test_file_name_that_is_not_utf8_is_refused_before_anything_runs(
        calctl: Any, project: Path, pg_url: str) -> None:
    _write(project, "001_a.sql", "create table named_a(id int);\n")
    bad = os.path.join(os.fsencode(project / "migrations"), b"002_\xff.sql")
    with open(bad, "wb") as handle:
        handle.write(b"create table named_b(id int);\n")
    result = calctl("migrate", "apply", "--database-url", pg_url, cwd=project, env=_env())
    assert result.returncode == 2, result.stderr
    assert "002_\\xff.sql: the file name is not valid UTF-8" in result.stderr
    assert "internal error" not in result.stderr
    assert _missing(pg_url, "named_a", "named_b") and _succeeded(pg_url) == []


def test_plan_made_for_another_directory_is_refused(
        calctl: Any, project: Path, pg_url: str, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "001_a.sql").write_text("create table plan_other(id int);\n", encoding="utf-8")
    _write(project, "001_a.sql", "create table plan_here(id int);\n")
    plan = calctl("migrate", "order", str(other), "--json", cwd=tmp_path, env=_env())
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["directory"] == str(other)
    (project / "plan.json").write_text(plan.stdout, encoding="utf-8")
    result = calctl("migrate", "apply", "--plan", "plan.json", "--database-url", pg_url,
                    cwd=project, env=_env())
    assert result.returncode == 2, result.stderr
    assert f"the plan was made for {other}, not" in result.stderr
    assert _missing(pg_url, "plan_here", "plan_other") and _succeeded(pg_url) == []
    # the plan of this directory is accepted
    own = calctl("migrate", "order", "--json", cwd=project, env=_env())
    (project / "plan.json").write_text(own.stdout, encoding="utf-8")
    result = calctl("migrate", "apply", "--plan", "plan.json", "--database-url", pg_url,
                    cwd=project, env=_env())
    assert result.returncode == 0, result.stderr
    assert not _missing(pg_url, "plan_here")


# ---------------------------------------------------------------- hostile review M6

SECRET_LINE = "-- password = TopSecretM6link"


def _secret(base: Path) -> Path:
    """A credentials file outside the project; its line is not valid SQL, so a run that
    read it would quote it in the error."""
    folder = base / "hostile-secret"
    folder.mkdir()
    credentials = folder / "credentials"
    credentials.write_text(f"{SECRET_LINE}\nthis is not sql TopSecretM6link;\n",
                           encoding="utf-8")
    (folder / "002_more.sql").write_text("nonsense TopSecretM6link;\n", encoding="utf-8")
    return credentials


def test_a_committed_link_to_a_file_outside_the_project_is_not_read(
        calctl: Any, project: Path, pg_url: str, tmp_path: Path) -> None:
    credentials = _secret(tmp_path)
    _write(project, "001_a.sql", "create table linked_a(id int);\n")
    (project / "migrations" / "002.sql").symlink_to(credentials)
    runs = [("order",), ("lint",), ("verify", "--database-url", pg_url),
            ("apply", "--database-url", pg_url), ("apply", "--dry-run", "--database-url",
                                                   pg_url)]
    for args in runs:
        result = calctl("migrate", *args, cwd=project, env=_env())
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "TopSecretM6link" not in result.stdout + result.stderr
        first = result.stderr.splitlines()[0]
        assert "migrations/002.sql" in first and "outside the project" in first, first
    assert _missing(pg_url, "linked_a")
    assert _succeeded(pg_url) == []


def test_a_committed_link_to_a_folder_outside_the_project_is_not_read(
        calctl: Any, project: Path, pg_url: str, tmp_path: Path) -> None:
    credentials = _secret(tmp_path)
    _write(project, "001_a.sql", "create table linked_b(id int);\n")
    (project / "migrations" / "more").symlink_to(credentials.parent)
    result = calctl("migrate", "verify", "--database-url", pg_url, cwd=project, env=_env())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "TopSecretM6link" not in result.stdout + result.stderr
    assert "migrations/more" in result.stderr and "outside the project" in result.stderr
    # the migration directory itself linked out of the project
    (project / "migrations" / "more").unlink()
    (project / "db").symlink_to(credentials.parent)
    (project / "calctl.toml").write_text('[migrate]\ndir = "db"\n', encoding="utf-8")
    result = calctl("migrate", "order", cwd=project, env=_env())
    assert result.returncode == 2, result.stdout + result.stderr
    assert "TopSecretM6link" not in result.stdout + result.stderr
    assert "outside the project" in result.stderr
    assert _missing(pg_url, "linked_b")


def test_links_between_folders_inside_the_project_still_work(
        calctl: Any, project: Path, pg_url: str) -> None:
    shared = project / "shared" / "sql"
    shared.mkdir(parents=True)
    (shared / "002_shared.sql").write_text("create table linked_in(id int);\n")
    _write(project, "001_a.sql", "create table linked_first(id int);\n")
    (project / "migrations" / "002_shared.sql").symlink_to("../shared/sql/002_shared.sql")
    (project / "shared" / "more").mkdir()
    (project / "migrations" / "extra").symlink_to("../shared/more")
    (project / "shared" / "more" / "003_more.sql").write_text(
        "create table linked_more(id int);\n")
    order = calctl("migrate", "order", "--json", cwd=project, env=_env())
    assert order.returncode == 0, order.stderr
    applied = _apply(calctl, project, pg_url)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert not _missing(pg_url, "linked_in") and not _missing(pg_url, "linked_more")

    # a directory outside the project that the user names is theirs to read
    outside = project.parent / "elsewhere"
    outside.mkdir()
    (outside / "001_x.sql").write_text("create table elsewhere_x(id int);\n")
    named = calctl("migrate", "order", str(outside), cwd=project, env=_env())
    assert named.returncode == 0, named.stderr
