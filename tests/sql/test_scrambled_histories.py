"""Histories numbered at random (issue 12's "scrambled" measure): an object defined,
dropped and defined again has several definitions, and filename order alone cannot say
which one a file means. Each class of such objects from a small synthetic history: the
plan applies on PostgreSQL where filename order does not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from support import migration_dir, plan_of


def test_a_column_that_outlives_a_type_drop_is_of_the_next_definition(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`DROP TYPE s` fails while a column is of type `s`: a column made with `s` that no
    file drops belongs to the definition made after the drop, not the one before."""
    d = migration_dir(tmp_path, {
        "1_type.sql": "CREATE TYPE s AS ENUM ('a', 'b');\nCREATE TABLE t (id int, s s);\n",
        "2_user.sql": "CREATE TABLE u (id int, s s);\n",
        "3_drop.sql": "ALTER TABLE t DROP COLUMN s;\nDROP TYPE s;\n",
        "4_again.sql": "CREATE TYPE s AS ENUM ('x', 'y');\nALTER TABLE t ADD COLUMN s s;\n",
    })
    plan, order = plan_of(d)
    assert not plan.safe
    assert {p.path for p in plan.problems if p.code == "CAL001"} == {"2_user.sql"}
    assert order == ["1_type.sql", "3_drop.sql", "4_again.sql", "2_user.sql"]
    assert pg_apply(pg_url, d, order) == []
    assert pg_apply(pg_url, d, sorted(order)) != []  # (filename order fails)


def test_a_foreign_key_that_outlives_a_table_drop_is_of_the_next_definition(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`DROP TABLE p` fails while another table's foreign key references `p`: a foreign
    key no file drops references the definition of `p` made after the drop."""
    d = migration_dir(tmp_path, {
        "1_p.sql": "CREATE TABLE p (id int PRIMARY KEY);\n",
        "2_q.sql": "CREATE TABLE q (id int, p_id int,\n"
                   "  CONSTRAINT q_p_fkey FOREIGN KEY (p_id) REFERENCES p (id));\n",
        "3_drop.sql": "DROP TABLE p;\n",
        "4_again.sql": "CREATE TABLE p (id int PRIMARY KEY, v int);\n",
    })
    plan, order = plan_of(d)
    assert not plan.safe
    assert order == ["1_p.sql", "3_drop.sql", "4_again.sql", "2_q.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_add_value_is_on_a_definition_without_the_label(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Prisma's enum rebuild (`CREATE TYPE "k_new"`, columns moved over, `DROP TYPE`,
    `RENAME`) lists the labels of the new definition: a file that adds one of them
    (`ADD VALUE`) runs on the old definition, before the rebuild."""
    d = migration_dir(tmp_path, {
        "1_k.sql": "CREATE TYPE k AS ENUM ('one');\nCREATE TABLE t (k k);\n",
        "2_rebuild.sql": "CREATE TYPE k_new AS ENUM ('one', 'two');\n"
                         "ALTER TABLE t ALTER COLUMN k TYPE k_new USING (k::text::k_new);\n"
                         "DROP TYPE k;\nALTER TYPE k_new RENAME TO k;\n",
        "3_add.sql": "ALTER TYPE k ADD VALUE 'two';\n",
        "4_use.sql": "ALTER TYPE k ADD VALUE 'three';\n",
    })
    plan, order = plan_of(d)
    assert not plan.safe
    assert order == ["1_k.sql", "3_add.sql", "2_rebuild.sql", "4_use.sql"]
    deps = {f.path: {x.path for x in f.depends_on} for f in plan.files}
    assert deps["3_add.sql"] == {"1_k.sql"} and deps["4_use.sql"] == {"2_rebuild.sql"}
    assert pg_apply(pg_url, d, order) == []


def test_add_value_if_not_exists_keeps_its_place(tmp_path: Path) -> None:
    """An `ADD VALUE IF NOT EXISTS` of a label the type has already is harmless: no move,
    no finding (an intact history is never flagged by the labels)."""
    d = migration_dir(tmp_path, {
        "1_k.sql": "CREATE TYPE k AS ENUM ('one', 'two');\n",
        "2_add.sql": "ALTER TYPE k ADD VALUE IF NOT EXISTS 'two';\n",
        "3_add.sql": "ALTER TYPE k ADD VALUE 'three';\n",
    })
    plan, _ = plan_of(d)
    assert plan.safe and plan.problems == []
    assert all(f.moved_from is None for f in plan.files)


def test_a_cycle_from_filename_binding_is_bound_again_in_plan_order(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """A table defined twice, and a file numbered before both that uses the second one
    and a column a later file adds: bound by filename order, its use of the table is of
    the first definition, which must then be dropped after it — a cycle with the column.
    Bound again in the plan's order, it is of the second definition: no cycle, and the
    plan applies."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE TABLE a (id int);\n",
        "2_user.sql": "ALTER TABLE b ADD COLUMN w int;\nUPDATE a SET y = 1;\n",
        "3_b.sql": "CREATE TABLE b (id int, x int);\n",
        "4_drop.sql": "DROP TABLE b;\nALTER TABLE a ADD COLUMN y int;\n",
        "5_b_again.sql": "CREATE TABLE b (id int, z int);\n",
    })
    plan, order = plan_of(d)
    assert not plan.safe
    assert not [p for p in plan.problems if p.code == "CAL002"]
    assert order == ["1_a.sql", "3_b.sql", "4_drop.sql", "5_b_again.sql", "2_user.sql"]
    deps = {x.path for f in plan.files if f.path == "2_user.sql" for x in f.depends_on}
    assert deps == {"1_a.sql", "4_drop.sql", "5_b_again.sql"}
    assert pg_apply(pg_url, d, order) == []


def test_a_column_added_to_a_table_defined_twice_follows_its_users_definition(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """A table created, dropped and created again, told apart by its columns: a file
    that means the second definition (it uses `new_only`) and uses `version`, which one
    other file adds, says that file adds it to the second definition too — not to the
    first one, which the drop takes away with it."""
    d = migration_dir(tmp_path, {
        "1_j.sql": "CREATE TABLE j (id int, old_only int);\n",
        "2_version.sql": "ALTER TABLE j ADD COLUMN version int;\n",
        "3_use.sql": "UPDATE j SET new_only = 1, version = 2;\n",
        "4_drop.sql": "UPDATE j SET old_only = 0;\nDROP TABLE j;\n",
        "5_j.sql": "CREATE TABLE j (id int, new_only int);\n",
    })
    plan, order = plan_of(d)
    assert not plan.safe
    assert order == ["1_j.sql", "4_drop.sql", "5_j.sql", "2_version.sql", "3_use.sql"]
    assert pg_apply(pg_url, d, order) == []
