"""Issue 12, items 6, 7 and 13: constraints and their indexes as objects, idempotent
creators as alternatives, and a move list a user can act on — each from its repro, and
each plan run on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calctl.config import MigrateSettings
from calctl.documents import MigrationPlan
from calctl.sql.runtime import build_plan
from support import assert_valid_sarif


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql, encoding="utf-8")
    return directory


def _plan(directory: Path) -> MigrationPlan:
    plan, _ = build_plan(directory, MigrateSettings(), cache_dir=None)
    return plan


def _codes(plan: MigrationPlan) -> list[str]:
    return [p.code for p in plan.problems]


def _order(plan: MigrationPlan) -> list[str]:
    return [f.path for f in plan.files]


def _needs(plan: MigrationPlan, path: str) -> set[tuple[str, str]]:
    (file,) = [f for f in plan.files if f.path == path]
    return {(d.path, d.object) for d in file.depends_on}


# ---------------------------------------------------------------- 6: constraints

CONSTRAINTS = {
    "001_tables.sql": 'CREATE TABLE "T" (id int PRIMARY KEY, code text UNIQUE, n int);\n',
    "002_rename_pkey.sql": 'ALTER INDEX "T_pkey" RENAME TO "T_id_pkey";\n',
    "003_check.sql": 'ALTER TABLE "T" ADD CONSTRAINT t_n_positive CHECK (n > 0);\n',
    "004_drop.sql": 'ALTER TABLE "T" DROP CONSTRAINT t_n_positive;\n'
                    'ALTER TABLE "T" DROP CONSTRAINT "T_code_key";\n'
                    'ALTER TABLE "T" DROP CONSTRAINT "T_id_pkey";\n',
    "005_again.sql": 'ALTER TABLE "T" ADD CONSTRAINT t_n_positive CHECK (n >= 0);\n'
                     'ALTER TABLE "T" ADD CONSTRAINT "T_pkey" PRIMARY KEY (id);\n',
}


def test_primary_key_index_and_named_constraints_are_objects(tmp_path: Path, pg_url: str,
                                                             pg_apply: Any) -> None:
    directory = _write(tmp_path / "m", CONSTRAINTS)
    plan = _plan(directory)
    # the index a PRIMARY KEY creates under PostgreSQL's default name is not "missing"
    assert plan.safe and _codes(plan) == [], plan.problems
    assert ("001_tables.sql", 'index "T_pkey"') in _needs(plan, "002_rename_pkey.sql")
    assert {("003_check.sql", 'constraint "T.t_n_positive"'),
            ("001_tables.sql", 'constraint "T.T_code_key"'),  # UNIQUE's default name
            ("002_rename_pkey.sql", 'constraint "T.T_id_pkey"'),  # renamed with its index
            } <= _needs(plan, "004_drop.sql")
    assert pg_apply(pg_url, directory, _order(plan)) == []


def test_constraints_order_against_each_other(tmp_path: Path, pg_url: str,
                                              pg_apply: Any) -> None:
    # the index rename and the ADD CONSTRAINT renumbered after the file that drops what
    # they make: both are named, and the plan runs the drop after them
    files = {name: sql for name, sql in CONSTRAINTS.items() if name != "005_again.sql"}
    files["006_rename_pkey.sql"] = files.pop("002_rename_pkey.sql")
    files["007_check.sql"] = files.pop("003_check.sql")
    directory = _write(tmp_path / "m", files)
    plan = _plan(directory)
    assert not plan.safe and "CAL002" not in _codes(plan), plan.problems
    flagged = [p for p in plan.problems if p.code == "CAL001"]
    assert {p.path for p in flagged} == {"004_drop.sql"}
    assert sorted(p.message.rsplit(" ", 1)[-1] for p in flagged) == [
        "006_rename_pkey.sql", "007_check.sql"]
    assert [(m.path, m.after) for m in plan.moves] == [("004_drop.sql", "007_check.sql")]
    assert ("006_rename_pkey.sql", 'constraint "T.T_id_pkey"') in _needs(plan, "004_drop.sql")
    assert pg_apply(pg_url, directory, _order(plan)) == []


def test_constraint_added_again_stays_after_its_drop(tmp_path: Path, pg_url: str,
                                                     pg_apply: Any) -> None:
    directory = _write(tmp_path / "m", {
        "001_t.sql": "CREATE TABLE t (id int, n int);\n"
                     "ALTER TABLE t ADD CONSTRAINT c CHECK (n > 0);\n",
        "002_drop.sql": "ALTER TABLE t DROP CONSTRAINT c;\n"
                        "CREATE VIEW v AS SELECT * FROM late;\n",
        "003_again.sql": "ALTER TABLE t ADD CONSTRAINT c CHECK (n >= 0);\n",
        "009_late.sql": "CREATE TABLE late (x int);\n",
    })
    plan = _plan(directory)
    assert _order(plan) == ["001_t.sql", "009_late.sql", "002_drop.sql", "003_again.sql"]
    assert [m.path for m in plan.moves] == ["002_drop.sql", "003_again.sql"]
    assert pg_apply(pg_url, directory, _order(plan)) == []


def test_constraint_index_made_again_after_its_column_went(tmp_path: Path, pg_url: str,
                                                           pg_apply: Any) -> None:
    # (goharbor/harbor) DROP COLUMN drops the UNIQUE constraint over it, unseen; the next
    # file adds it again. Renumbered after that file, the creator of the table is named,
    # and the two creations of the index do not chain into a cycle.
    directory = _write(tmp_path / "m", {
        "030_artifact.sql": "ALTER TABLE artifact ADD COLUMN digest text;\n"
                            "ALTER TABLE artifact DROP COLUMN tag;\n"
                            "ALTER TABLE artifact ADD CONSTRAINT unique_artifact "
                            "UNIQUE (repo, digest);\n",
        "030_zz_010_schema.sql": "CREATE TABLE artifact (id int, repo int, tag text, "
                                 "CONSTRAINT unique_artifact UNIQUE (repo, tag));\n",
    })
    plan = _plan(directory)
    assert "CAL002" not in _codes(plan), plan.problems
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["030_artifact.sql"]
    assert _order(plan) == ["030_zz_010_schema.sql", "030_artifact.sql"]
    assert pg_apply(pg_url, directory, _order(plan)) == []


# ---------------------------------------------------------------- 7: IF NOT EXISTS


def test_idempotent_creators_are_alternatives_not_a_chain(tmp_path: Path, pg_url: str,
                                                         pg_apply: Any) -> None:
    # 001 needs a table 003 creates; both create the schema IF NOT EXISTS: 003 runs first
    # and provides the schema (the old chain 001 → 003 made a false cycle)
    directory = _write(tmp_path / "m", {
        "001_a.sql": "CREATE SCHEMA IF NOT EXISTS app;\n"
                     "CREATE TABLE app.a (id int PRIMARY KEY, b_id int REFERENCES app.b (id));\n",
        "002_c.sql": "CREATE TABLE app.c (id int);\n",
        "003_b.sql": "CREATE SCHEMA IF NOT EXISTS app;\n"
                     "CREATE TABLE app.b (id int PRIMARY KEY);\n",
    })
    plan = _plan(directory)
    assert "CAL002" not in _codes(plan), plan.problems
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["001_a.sql"]
    order = _order(plan)
    assert order[0] == "003_b.sql"
    # 002 needs the schema: it names the creator that runs before it
    assert ("003_b.sql", 'schema "app"') in _needs(plan, "002_c.sql")
    assert pg_apply(pg_url, directory, order) == []


def test_plain_index_after_an_idempotent_one_of_the_same_name(tmp_path: Path, pg_url: str,
                                                              pg_apply: Any) -> None:
    directory = _write(tmp_path / "m", {
        "001_a.sql": "CREATE TABLE b (y int);\nCREATE TABLE a (x int);\n"
                     "CREATE INDEX IF NOT EXISTS idx ON a (x);\n",
        "002_drop.sql": "DROP TABLE a;\n",
        "003_b.sql": "CREATE INDEX idx ON b (y);\n",
        "004_again.sql": "CREATE INDEX IF NOT EXISTS idx ON b (y);\n"
                         "ALTER INDEX idx RENAME TO idx_b;\n",
    })
    plan = _plan(directory)
    assert plan.safe and not plan.moves, plan.problems
    assert "CAL002" not in _codes(plan)
    assert pg_apply(pg_url, directory, _order(plan)) == []


# ---------------------------------------------------------------- 13: moves


def test_moves_name_only_files_to_rename_and_what_to_sort_after(tmp_path: Path) -> None:
    # a renumbered history: 002's creator became 090, so 002 and the files that build on
    # it move; 050 only changes position because those move, and is not in the list
    directory = _write(tmp_path / "m", {
        "001_base.sql": "CREATE TABLE base (id int PRIMARY KEY);\n",
        "002_users.sql": "CREATE TABLE users (id int PRIMARY KEY, "
                         "org int REFERENCES orgs (id));\n",
        "003_posts.sql": "CREATE TABLE posts (id int, author int REFERENCES users (id));\n",
        "050_other.sql": "CREATE TABLE other (id int REFERENCES base (id));\n",
        "090_orgs.sql": "CREATE TABLE orgs (id int PRIMARY KEY);\n",
        "095_last.sql": "CREATE TABLE last (id int);\n",
    })
    plan = _plan(directory)
    assert _order(plan) == ["001_base.sql", "050_other.sql", "090_orgs.sql", "002_users.sql",
                            "003_posts.sql", "095_last.sql"]
    # each right after the file the plan runs before it (002 renamed first)
    assert [(m.path, m.after) for m in plan.moves] == [("002_users.sql", "090_orgs.sql"),
                                                      ("003_posts.sql", "002_users.sql")]
    assert plan.moves[0].reason == 'needs table "orgs" (line 1) from 090_orgs.sql'
    assert plan.moves[1].reason == "needs 002_users.sql, which moved"
    # renaming as told gives a filename order the plan keeps as it is
    renamed = _write(tmp_path / "renamed", {
        {"002_users.sql": "090a_users.sql", "003_posts.sql": "090b_posts.sql"}.get(
            f.path, f.path): (directory / f.path).read_text() for f in plan.files})
    again = _plan(renamed)
    assert again.safe and not again.moves


def test_moves_in_every_output_format(calctl: Any, tmp_path: Path) -> None:
    directory = _write(tmp_path / "m", {
        "001_orders.sql": "CREATE TABLE orders (id int, customer int "
                          "REFERENCES customers (id));\n",
        "002_customers.sql": "CREATE TABLE customers (id int PRIMARY KEY);\n",
    })
    text = calctl("migrate", "order", str(directory), "--check", cwd=tmp_path)
    assert text.returncode == 1
    assert text.stdout.splitlines()[0] == (
        'rename 001_orders.sql to sort after 002_customers.sql: needs table "customers" '
        "(line 1) from 002_customers.sql")
    assert "position" not in text.stdout
    listing = calctl("migrate", "order", str(directory), cwd=tmp_path)
    assert listing.returncode == 0
    assert "2  001_orders.sql  (rename to sort after 002_customers.sql: needs" in listing.stdout
    document = calctl("migrate", "order", str(directory), "--json", cwd=tmp_path).json()
    assert document["moves"] == [{
        "path": "001_orders.sql", "after": "002_customers.sql",
        "reason": 'needs table "customers" (line 1) from 002_customers.sql'}]
    assert document["files"][1]["moved_from"] == 0  # the old fields stay
    github = calctl("migrate", "order", str(directory), "--check", "--format", "github",
                    cwd=tmp_path)
    assert github.returncode == 1
    assert "::notice file=m/001_orders.sql,title=rename::rename 001_orders.sql to sort " \
           "after 002_customers.sql" in github.stdout
    sarif = calctl("migrate", "order", str(directory), "--check", "--format", "sarif",
                   cwd=tmp_path)
    assert sarif.returncode == 1
    assert_valid_sarif(sarif.json())
    (move,) = sarif.json()["runs"][0]["properties"]["moves"]
    assert move["path"] == "m/001_orders.sql" and move["after"] == "m/002_customers.sql"
