"""Issue 12's defects on real histories, each from its small repro: the plan must apply
on PostgreSQL, and `--check` must not fail a history whose filename order applies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from calctl.sql.analyse import analyse
from calctl.sql.facts import AnalysisInput
from support import assert_intact, migration_dir, plan_of


def test_columns_come_with_a_renamed_table(tmp_path: Path, pg_url: str,
                                           pg_apply: Callable[..., Any]) -> None:
    """Item 2: `person.admin` after `user_ RENAME TO person` is user_'s column, not the
    one a later file adds again after this file drops it."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE TABLE user_ (id int, admin bool);\n",
        "2_b.sql": "ALTER TABLE user_ RENAME TO person;\n"
                   "UPDATE person SET admin = true;\n"
                   "ALTER TABLE person DROP COLUMN admin;\n",
        "3_c.sql": "ALTER TABLE person ADD COLUMN admin text;\n",
        "4_d.sql": "ALTER TABLE person RENAME TO human;\nUPDATE human SET id = 1;\n"
                   "CREATE INDEX human_id ON human (id);\n",
    })
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == []
    assert all(f.moved_from is None for f in plan.files)
    deps = {(x.path, x.object) for f in plan.files if f.path == "2_b.sql" for x in f.depends_on}
    assert ("1_a.sql", 'column "person.admin"') in deps
    assert pg_apply(pg_url, d, order) == []


def test_unguarded_do_block_uses_are_hard(tmp_path: Path, pg_url: str,
                                          pg_apply: Callable[..., Any]) -> None:
    """Item 3: a DO block's unconditional statements run now; IF/CASE branches, blocks
    with an EXCEPTION handler and EXECUTE stay weak."""
    do = ("DO $$ BEGIN ALTER TABLE auth.users ADD COLUMN x int; END $$;\n"
          "DO $$ DECLARE r record; BEGIN\n"
          "  FOR r IN SELECT * FROM auth.execution LOOP UPDATE auth.execution SET a = 1;\n"
          "  END LOOP;\nEND $$;\n")
    guarded = ("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'other') THEN\n"
               "  UPDATE auth.other SET a = 1; END IF;\nEND $$;\n"
               "DO $$ BEGIN UPDATE auth.other SET a = 2;\n"
               "EXCEPTION WHEN undefined_table THEN NULL; END $$;\n"
               "DO $$ BEGIN CASE WHEN false THEN UPDATE auth.other SET a = 3; ELSE NULL;\n"
               "  END CASE; END $$;\n")
    d = migration_dir(tmp_path, {
        "1_do.sql": do,
        "2_guarded.sql": guarded,
        "3_auth.sql": "CREATE SCHEMA auth;\nCREATE TABLE auth.users (id int);\n"
                      "CREATE TABLE auth.execution (a int);\n",
        "4_other.sql": "CREATE TABLE auth.other (a int);\n",
    })
    plan, order = plan_of(d)
    assert not plan.safe
    forward = [p for p in plan.problems if p.code == "CAL001"]
    assert {p.path for p in forward} == {"1_do.sql"}
    assert order.index("1_do.sql") > order.index("3_auth.sql")
    assert "2_guarded.sql" not in {f.path for f in plan.files if f.moved_from is not None}
    assert pg_apply(pg_url, d, order) == []


def test_column_dropped_and_added_again(tmp_path: Path, pg_url: str,
                                        pg_apply: Callable[..., Any]) -> None:
    """Item 4, across files: when the dropping file moves, the re-adding one follows."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE TABLE t (s int);\n",
        "2_b.sql": "ALTER TABLE t DROP COLUMN s;\nALTER TABLE u ADD COLUMN x int;\n",
        "3_c.sql": "ALTER TABLE t ADD COLUMN s text;\n",
        "4_d.sql": "CREATE TABLE u (id int);\n",
    })
    _, order = plan_of(d)
    assert order.index("3_c.sql") > order.index("2_b.sql") > order.index("4_d.sql")
    assert pg_apply(pg_url, d, order) == []


def test_column_dropped_and_added_in_one_file_still_needs_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Item 4, within a file: `DROP COLUMN c; ADD COLUMN c` needs c from an earlier file."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE TABLE t (id int);\n",
        "3_c.sql": "ALTER TABLE t DROP COLUMN c;\nALTER TABLE t ADD COLUMN c text;\n",
        "4_b.sql": "ALTER TABLE t ADD COLUMN c int;\n",
    })
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "3_c.sql" and "4_b.sql" in problem.message
    assert order == ["1_a.sql", "4_b.sql", "3_c.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_drop_type_after_the_drops_of_its_tables(tmp_path: Path, pg_url: str,
                                                 pg_apply: Callable[..., Any]) -> None:
    """Item 5: the file dropping a table made with a type moves; the type's drop follows."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE TYPE mood AS ENUM ('a');\n",
        "2_b.sql": "CREATE TABLE t (m mood);\nCREATE TABLE k (id int);\n"
                   "ALTER TABLE k ADD COLUMN m mood;\n",
        "3_c.sql": "DROP TABLE t;\nALTER TABLE k DROP COLUMN m;\nALTER TABLE z ADD COLUMN q int;\n",
        "4_d.sql": "DROP TYPE mood;\n",
        "5_e.sql": "CREATE TABLE z (id int);\n",
    })
    _, order = plan_of(d)
    assert order.index("4_d.sql") > order.index("3_c.sql") > order.index("5_e.sql")
    assert pg_apply(pg_url, d, order) == []


def test_alter_column_type_stays_outside_the_life_of_a_view(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Item 5: ALTER COLUMN … TYPE before the view over the column is created, or after it
    is dropped, even when the files around it move."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE TABLE t (c int);\n",
        "2_b.sql": "ALTER TABLE t ALTER COLUMN c TYPE bigint;\nALTER TABLE z ADD COLUMN q int;\n",
        "3_c.sql": "CREATE VIEW v AS SELECT c FROM t;\n",
        "4_d.sql": "DROP VIEW v;\nALTER TABLE z2 ADD COLUMN r int;\n",
        "5_e.sql": "ALTER TABLE t ALTER COLUMN c TYPE text;\n",
        "6_f.sql": "CREATE TABLE z (id int);\nCREATE TABLE z2 (id int);\n",
    })
    _, order = plan_of(d)
    assert order.index("3_c.sql") > order.index("2_b.sql") > order.index("6_f.sql")
    assert order.index("5_e.sql") > order.index("4_d.sql")
    assert pg_apply(pg_url, d, order) == []


def test_added_and_dropped_in_one_file_then_used_does_not_crash(tmp_path: Path) -> None:
    """Item 9: this exact input was exit 70 (StopIteration in names.resolve)."""
    d = migration_dir(tmp_path, {
        "0.sql": "CREATE TABLE t (a int);\n",
        "1.sql": "ALTER TABLE t ADD COLUMN c int; ALTER TABLE t DROP COLUMN c;\n",
        "2.sql": "CREATE INDEX i ON t (c);\n",
    })
    plan, order = plan_of(d)
    assert order == ["0.sql", "1.sql", "2.sql"]
    (missing,) = [p for p in plan.problems if p.code == "CAL003"]
    assert missing.path == "2.sql" and '"t.c"' in missing.message


def test_templates_inside_comments_are_text() -> None:
    """Item 12: `${X}` / `{{X}}` in a comment is not a template (no CAL009, exact)."""
    text = ("-- set ${schema} and {{ .Name }} with --define\n"
            "/* {{ index .Options \"X\" }} */\n"
            "CREATE TABLE t (note text DEFAULT '-- ${not_a_comment}');\n")
    result = analyse(AnalysisInput.of(text, "1.sql"))
    # only the one in the string literal is a template (tools render it there too)
    assert [(n.code, n.line) for n in result.notes] == [("CAL009", 3)]
    plain = analyse(AnalysisInput.of(text.replace("'-- ${not_a_comment}'", "''"), "1.sql"))
    assert not plain.approximate and plain.notes == ()


def test_column_added_again_runs_after_its_drop_whatever_the_names(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """A table made once with `s`, one file dropping `s`, one adding it again: the adding
    file needs `s` gone, even when it sorts first (a scrambled history: "column already
    exists" before)."""
    d = migration_dir(tmp_path, {
        "1_readd.sql": "ALTER TABLE t ADD COLUMN s text;\n",
        "2_drop.sql": "ALTER TABLE t DROP COLUMN s;\n",
        "3_table.sql": "CREATE TABLE t (id int, s int);\n",
    })
    plan, order = plan_of(d)
    assert order == ["3_table.sql", "2_drop.sql", "1_readd.sql"]
    assert not plan.safe
    assert pg_apply(pg_url, d, order) == []


def test_column_added_before_its_table_is_rebuilt_follows_the_rebuild(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """A file adds a column to a table a later-numbered file rebuilds (drop, rename a new
    table into the name) and a third file uses the column: the adding file belongs after
    the rebuild (its uses of the table are the new table's), and `--check` names it."""
    d = migration_dir(tmp_path, {
        "1_t.sql": "CREATE TABLE t (id int);\n",
        "2_add.sql": "ALTER TABLE t ADD COLUMN scope text;\n",
        "3_rebuild.sql": "CREATE TABLE t_new (id int);\nINSERT INTO t_new SELECT id FROM t;\n"
                         "DROP TABLE t;\nALTER TABLE t_new RENAME TO t;\n",
        "4_use.sql": "CREATE INDEX t_scope ON t (scope);\n",
    })
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "2_add.sql" and "3_rebuild.sql" in problem.message
    assert order == ["1_t.sql", "3_rebuild.sql", "2_add.sql", "4_use.sql"]
    assert pg_apply(pg_url, d, order) == []
    # the same rebuild that keeps the column (the new table has it) is no misorder
    (d / "3_rebuild.sql").write_text(
        "CREATE TABLE t_new (id int, scope text);\nINSERT INTO t_new SELECT id, scope FROM t;\n"
        "DROP TABLE t;\nALTER TABLE t_new RENAME TO t;\n", encoding="utf-8")
    plan, order = plan_of(d)
    assert plan.safe and order == sorted(order)


_REBUILT = {"1_init.sql": "CREATE TABLE t (id int, a int);\nCREATE TABLE u (id int, a int);\n",
            "2_rebuild.sql": "DROP TABLE t;\nCREATE TABLE t (id int);\n"}
# histories that apply in filename order after a table is rebuilt without `a` (the
# review's repros; each raised an alarm before, most since long before this rule)
_AFTER_A_REBUILD = {
    "a from the other side of a join": {
        "3_use.sql": "CREATE VIEW v AS SELECT a FROM t JOIN u USING (id);\n"},
    "dropped if it exists": {"3_use.sql": "ALTER TABLE t DROP COLUMN IF EXISTS a;\n"},
    "in a guarded DO block": {
        "3_use.sql": "DO $$ BEGIN\nIF EXISTS (SELECT 1 FROM information_schema.columns\n"
                     "  WHERE table_name = 't' AND column_name = 'a') THEN\n"
                     "  UPDATE t SET a = 1;\nEND IF;\nEND $$;\n"},
    "renamed in": {"2_rebuild.sql": "DROP TABLE t;\nCREATE TABLE t (id int, a_new int);\n",
                   "3_rn.sql": "ALTER TABLE t RENAME COLUMN a_new TO a;\n",
                   "4_use.sql": "CREATE VIEW v AS SELECT a FROM t;\n"},
    "rebuilt again with it": {
        "3_rebuild2.sql": "CREATE TABLE t2 (id int, a int);\nDROP TABLE t;\n"
                          "ALTER TABLE t2 RENAME TO t;\n",
        "4_use.sql": "CREATE VIEW v AS SELECT a FROM t;\n"},
}


@pytest.mark.parametrize("name", sorted(_AFTER_A_REBUILD))
def test_a_column_the_rebuild_lost_raises_no_alarm_where_postgres_applies_the_history(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    files = {**_REBUILT, **_AFTER_A_REBUILD[name]}
    d = migration_dir(tmp_path, files)
    assert pg_apply(pg_url, d, sorted(files)) == []
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(files)


def test_a_use_of_a_column_the_table_was_made_with_runs_before_the_rebuild(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """graphile-worker, scrambled: a file using `jobs.queue`, which `jobs` was created
    with, sorted after the file that rebuilds `jobs` without it. The use is the one out
    of place (the file creating the table cannot follow its rebuild, which the analysis
    used to ask for, in a cycle): it runs before the rebuild, and `--check` names it."""
    d = migration_dir(tmp_path, {
        "1_jobs.sql": "CREATE TABLE jobs (id int, queue text);\n",
        "2_rebuild.sql": "ALTER TABLE jobs RENAME TO jobs_legacy;\n"
                         "CREATE TABLE jobs (id int);\nDROP TABLE jobs_legacy;\n",
        "3_use.sql": "CREATE INDEX jobs_queue ON jobs (queue);\n",
    })
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code in ("CAL001", "CAL002")]
    assert problem.code == "CAL001" and problem.path == "2_rebuild.sql"
    assert "3_use.sql" in problem.message
    assert order == ["1_jobs.sql", "3_use.sql", "2_rebuild.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_foreign_key_to_a_column_redefined_in_place_follows_the_redefinition(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """A file drops `id` and adds it again with another type (Prisma's way); a foreign
    key of another table over `id`, never dropped, sorting between the table and that
    file: it belongs after it ("foreign key constraint … cannot be implemented")."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE TABLE a (id text PRIMARY KEY);\n",
        "2_fk.sql": "CREATE TABLE b (a_id uuid);\n"
                    "ALTER TABLE b ADD CONSTRAINT b_a_fkey FOREIGN KEY (a_id) REFERENCES a (id);\n",
        "3_retype.sql": "ALTER TABLE a DROP CONSTRAINT a_pkey, DROP COLUMN id,\n"
                        "  ADD COLUMN id uuid NOT NULL, ADD CONSTRAINT a_pkey PRIMARY KEY (id);\n",
    })
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "2_fk.sql" and "3_retype.sql" in problem.message
    assert order == ["1_a.sql", "3_retype.sql", "2_fk.sql"]
    assert pg_apply(pg_url, d, order) == []
    # dropped in between (as Prisma does before such a change): filename order holds
    (d / "3_retype.sql").write_text(
        "ALTER TABLE b DROP CONSTRAINT b_a_fkey;\n"
        "ALTER TABLE a DROP CONSTRAINT a_pkey, DROP COLUMN id,\n"
        "  ADD COLUMN id uuid NOT NULL, ADD CONSTRAINT a_pkey PRIMARY KEY (id);\n",
        encoding="utf-8")
    plan, order = plan_of(d)
    assert plan.safe and order == sorted(order)


def test_a_redefinition_numbered_before_the_key_it_must_follow_gives_way(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Numbered at random (hatchet's history scrambled): the file that drops and adds
    `a.id` again sorts before the file that creates `a`, `b` and the foreign key over
    `a.id`. The key keeping filename order after the redefinition is only a hint: the
    redefinition needs the tables, so the creating file runs first, with no cycle."""
    d = migration_dir(tmp_path, {
        "1_retype.sql": "ALTER TABLE b DROP CONSTRAINT b_a_fkey;\n"
                        "ALTER TABLE a DROP CONSTRAINT a_pkey, DROP COLUMN id,\n"
                        "  ADD COLUMN id uuid NOT NULL, ADD CONSTRAINT a_pkey PRIMARY KEY (id);\n"
                        "ALTER TABLE b DROP COLUMN a_id, ADD COLUMN a_id uuid;\n"
                        "ALTER TABLE b ADD CONSTRAINT b_a_fkey FOREIGN KEY (a_id) "
                        "REFERENCES a (id);\n",
        "2_init.sql": "CREATE TABLE a (id text PRIMARY KEY);\n"
                      "CREATE TABLE b (a_id text);\n"
                      "ALTER TABLE b ADD CONSTRAINT b_a_fkey FOREIGN KEY (a_id) "
                      "REFERENCES a (id);\n",
    })
    plan, order = plan_of(d)
    assert order == ["2_init.sql", "1_retype.sql"]
    assert not [p for p in plan.problems if p.code == "CAL002"]
    assert pg_apply(pg_url, d, order) == []


def _versions(schema: str) -> dict[str, str]:
    """Each version drops the one before by its arguments (graphile-worker's way)."""
    def job(arguments: str) -> str:
        return (f"CREATE FUNCTION {schema}.add_job({arguments}) RETURNS int LANGUAGE sql\n"
                "AS $$ SELECT 1 $$;\n")

    return {
        "1_init.sql": f"CREATE SCHEMA {schema};\n" + job("a text, b integer"),
        "2_v2.sql": f"DROP FUNCTION {schema}.add_job(text, int);\n"
                    + job("a text, b int, c timestamptz"),
        "3_v3.sql": f"DROP FUNCTION {schema}.add_job(text, int4, timestamp with time zone);\n"
                    + job("a text, b int, c timestamptz, d text[] DEFAULT NULL, OUT id int"),
        "4_v4.sql": f"DROP FUNCTION {schema}.add_job(text, integer, timestamptz, text[][]);\n"
                    + job("a text"),
    }


def test_a_function_dropped_by_its_arguments_needs_that_version(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`DROP FUNCTION f(text, int)` needs the file that created f with those arguments,
    not any definition of f: the version renamed to sort after the next one is named and
    moved back (the name alone was satisfied by the first version, so the plan ran the
    next file's drop before the version it drops existed)."""
    (tmp_path / "intact").mkdir()
    (tmp_path / "injected").mkdir()
    files = _versions("jobs_intact")
    intact = migration_dir(tmp_path / "intact", files)
    plan, order = plan_of(intact)
    assert plan.safe and plan.problems == [] and order == sorted(files)
    assert pg_apply(pg_url, intact, order) == []
    files = _versions("jobs")
    files["3_v3_zz_2_v2.sql"] = files.pop("2_v2.sql")
    injected = migration_dir(tmp_path / "injected", files)
    plan, order = plan_of(injected)
    forward = [p for p in plan.problems if p.code == "CAL001"]
    assert [p.path for p in forward] == ["3_v3.sql"]
    assert "3_v3_zz_2_v2.sql" in forward[0].message
    assert "jobs.add_job(text,int4,timestamptz)" in forward[0].message
    assert order == ["1_init.sql", "3_v3_zz_2_v2.sql", "3_v3.sql", "4_v4.sql"]
    # (4_v4 drops `text[][]`, the same argument type as `text[]`: its own version)
    deps = {(x.path, x.object) for f in plan.files if f.path == "4_v4.sql" for x in f.depends_on}
    assert ("3_v3.sql", 'function "jobs.add_job(text,int4,timestamptz,text[])"') in deps
    assert pg_apply(pg_url, injected, order) == []


def test_a_drop_by_arguments_of_an_overload_no_file_makes_needs_the_name(
        tmp_path: Path) -> None:
    """An aggregate, or a function whose arguments are `%TYPE`, has no overload the
    analysis can name: dropping it by its arguments needs the name, as before."""
    for n, make in enumerate(["CREATE AGGREGATE a(int) (sfunc = int4pl, stype = int);\n",
                              "CREATE TABLE t (id int);\nCREATE FUNCTION a(x t.id%TYPE) "
                              "RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"]):
        kind = "AGGREGATE" if n == 0 else "FUNCTION"
        (tmp_path / str(n)).mkdir()
        d = migration_dir(tmp_path / str(n), {"1_drop.sql": f"DROP {kind} a(int);\n",
                                              "2_make.sql": make})
        plan, order = plan_of(d)
        assert [p.path for p in plan.problems if p.code == "CAL001"] == ["1_drop.sql"]
        assert order == ["2_make.sql", "1_drop.sql"]


# a table, a trigger function and the trigger on the table that runs it
_JOBS_WITH_TRIGGER = ("CREATE TABLE jobs (id int);\n"
                      "CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql\n"
                      "AS $$ BEGIN RETURN NEW; END $$;\n"
                      "CREATE TRIGGER jobs_bump AFTER INSERT ON jobs\n"
                      "  FOR EACH ROW EXECUTE FUNCTION bump();\n")


def _released_in_a_moving_file(tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
                               files: dict[str, str]) -> Path:
    """Four files: 1 makes a function and something that depends on it, 2 releases that
    dependent and needs a table from 4, 3 drops the function. 2 moves after 4, and the
    drop keeps its filename order after 2: the plan is 1, 4, 2, 3, and it applies."""
    d = migration_dir(tmp_path, files)
    first, release, drop, table = sorted(files)
    plan, order = plan_of(d)
    assert [p.path for p in plan.problems if p.code == "CAL001"] == [release]
    assert order == [first, table, release, drop]
    assert pg_apply(pg_url, d, order) == []
    return d


def test_a_function_is_dropped_after_the_trigger_that_runs_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """graphile-worker, scrambled: `DROP FUNCTION f()` ran before the file dropping the
    trigger that executes f ("other objects depend on it"). The drop keeps its filename
    order after the trigger's drop, also when that file moves for another need."""
    _released_in_a_moving_file(tmp_path, pg_url, pg_apply, {
        "1_jobs.sql": _JOBS_WITH_TRIGGER,
        "2_rework.sql": "DROP TRIGGER jobs_bump ON jobs;\n"
                        "ALTER TABLE jobs ADD COLUMN queue int REFERENCES queues (id);\n",
        "3_tidy.sql": "DROP FUNCTION bump();\n",
        "4_queues.sql": "CREATE TABLE queues (id int PRIMARY KEY);\n",
    })
    # the trigger is dropped under the name its table has since (review's repro)
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    r = migration_dir(renamed, {
        "1_jobs.sql": _JOBS_WITH_TRIGGER.replace("jobs", "tasks"),
        "2_rework.sql": "ALTER TABLE tasks RENAME TO work;\nDROP TRIGGER tasks_bump ON work;\n"
                        "ALTER TABLE work ADD COLUMN queue int REFERENCES lanes (id);\n",
        "3_tidy.sql": "DROP FUNCTION bump();\n",
        "4_lanes.sql": "CREATE TABLE lanes (id int PRIMARY KEY);\n",
    })
    _, order = plan_of(r)
    assert order == ["1_jobs.sql", "4_lanes.sql", "2_rework.sql", "3_tidy.sql"]
    assert pg_apply(pg_url, r, order) == []


_FN = "RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
_UNKNOWN_OVERLOADS = {  # a definition whose overload the analysis cannot name comes first
    "renamed": {"1.sql": f"CREATE FUNCTION f(x int) {_FN}",
                "2.sql": "ALTER FUNCTION f(int) RENAME TO g;\n",
                "3.sql": "DROP FUNCTION g(int);\n",
                "4.sql": f"CREATE FUNCTION g(x int) {_FN}"},
    "type_of_a_column": {"1.sql": f"CREATE TABLE t (id int);\nCREATE FUNCTION f(x t.id%TYPE) {_FN}",
                         "2.sql": "DROP FUNCTION f(int);\n",
                         "3.sql": f"CREATE FUNCTION f(x int) {_FN}"},
    "argument_type_renamed": {"1.sql": "CREATE TYPE s1 AS ENUM ('x');\n"
                                       f"CREATE FUNCTION f(a s1) {_FN}",
                              "2.sql": "ALTER TYPE s1 RENAME TO s2;\n",
                              "3.sql": "DROP FUNCTION f(s2);\n",
                              "4.sql": f"CREATE FUNCTION f(a s2) {_FN}"},
    "procedure_out_argument": {
        "1.sql": "CREATE PROCEDURE p(a int, OUT b int) LANGUAGE plpgsql\n"
                 "AS $$ BEGIN b := a; END $$;\n",
        "2.sql": "DROP PROCEDURE p(int, int);\n",
        "3.sql": "CREATE PROCEDURE p(a int, b int) LANGUAGE plpgsql AS $$ BEGIN END $$;\n"},
    "array_type_by_its_name": {"1.sql": f"CREATE FUNCTION f(a int[]) {_FN}",
                               "2.sql": "DROP FUNCTION f(_int4);\n",
                               "3.sql": f"CREATE FUNCTION f(a _int4) {_FN}"},
}
_UNKNOWN_LABELS = {  # the label comes another way than CREATE TYPE … AS ENUM or ADD VALUE
    "renamed_value": {"1.sql": "CREATE TYPE s AS ENUM ('old');\n",
                      "2.sql": "ALTER TYPE s RENAME VALUE 'old' TO 'new';\n",
                      "3.sql": "SELECT 'new'::s;\n",
                      "4.sql": "ALTER TYPE s ADD VALUE IF NOT EXISTS 'new';\n"},
    "renamed_type": {"1.sql": "CREATE TYPE s_new AS ENUM ('x');\nALTER TYPE s_new RENAME TO s;\n",
                     "2.sql": "SELECT 'x'::s;\n",
                     "3.sql": "DROP TYPE s;\nCREATE TYPE s AS ENUM ('x', 'y');\n"},
    "domain": {"1.sql": "CREATE DOMAIN s AS text;\n",
               "2.sql": "SELECT 'x'::s;\n",
               "3.sql": "DROP DOMAIN s;\nCREATE TYPE s AS ENUM ('x');\n"},
    "dotted_label_of_a_renamed_type": {
        "1.sql": "CREATE TYPE ev0 AS ENUM ('user.created');\n",
        "2.sql": "ALTER TYPE ev0 RENAME TO ev;\n",
        "3.sql": "CREATE VIEW v AS SELECT 'user.created'::ev AS e;\n",
        "4.sql": "DROP VIEW v;\nDROP TYPE ev;\nCREATE TYPE ev AS ENUM ('user.created');\n"},
    "added_by_execute": {"1.sql": "CREATE TYPE st AS ENUM ('a');\n",
                         "2.sql": "DO $$ BEGIN EXECUTE 'ALTER TYPE st ADD VALUE ''b'''; END $$;\n",
                         "3.sql": "CREATE VIEW v AS SELECT 'b'::st AS e;\n",
                         "4.sql": "ALTER TYPE st ADD VALUE IF NOT EXISTS 'b';\n"},
}


def test_what_the_analysis_cannot_name_raises_no_alarm(tmp_path: Path) -> None:
    """A drop by arguments after a definition whose overload is unknown (renamed into
    the name, `%TYPE` arguments), and a cast to a type whose labels came another way
    (RENAME VALUE, a renamed type, a domain): histories PostgreSQL applies in filename
    order. The use binds by name (overloads) or to nothing (labels), never forward."""
    for name, files in {**_UNKNOWN_OVERLOADS, **_UNKNOWN_LABELS}.items():
        (tmp_path / name).mkdir()
        d = migration_dir(tmp_path / name, files)
        plan, order = plan_of(d)
        assert plan.safe, (name, [p.message for p in plan.problems])
        assert order == sorted(files), name
    for how in ("ALTER FUNCTION f(int) RENAME TO g", "DROP FUNCTION f"):
        # gone by name since it was made: the drop by arguments needs the later version
        files = {"1.sql": f"CREATE FUNCTION f(a int) {_FN}", "2.sql": f"{how};\n",
                 "3.sql": "DROP FUNCTION f(int);\n", "4.sql": f"CREATE FUNCTION f(a int) {_FN}"}
        (tmp_path / how).mkdir()
        plan, order = plan_of(migration_dir(tmp_path / how, files))
        assert [p.path for p in plan.problems if p.code == "CAL001"] == ["3.sql"], how
        assert order == ["1.sql", "2.sql", "4.sql", "3.sql"], how
    first = dict(_UNKNOWN_OVERLOADS["type_of_a_column"])
    first["0.sql"] = "DROP FUNCTION f(int);\n" + first.pop("3.sql")  # before its %TYPE one
    (tmp_path / "first").mkdir()
    plan, order = plan_of(migration_dir(tmp_path / "first", first))
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["0.sql"]


def test_an_enum_label_read_through_a_cast_comes_after_the_file_adding_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`'aborting'::job_status` in an index predicate (procrastinate's history) needs the
    file whose `ALTER TYPE … ADD VALUE 'aborting'` adds it; a cast to a type that is no
    enum, or of a label the type was made with, needs nothing more."""
    d = migration_dir(tmp_path, {
        "1_jobs.sql": "CREATE TYPE job_status AS ENUM ('todo', 'doing');\n"
                      "CREATE TABLE jobs (id int, status job_status, note text);\n",
        "2_index.sql": "CREATE INDEX jobs_live ON jobs (id)\n"
                       "  WHERE status IN ('doing'::job_status, 'aborting'::job_status);\n"
                       "UPDATE jobs SET note = 'x'::text WHERE status = 'todo'::job_status;\n",
        "3_states.sql": "ALTER TYPE job_status ADD VALUE 'aborting';\n",
    })
    plan, order = plan_of(d)
    forward = [p for p in plan.problems if p.code == "CAL001"]
    assert [(p.path, p.line) for p in forward] == [("2_index.sql", 2)]
    assert 'enum label "job_status.aborting"' in forward[0].message
    assert order == ["1_jobs.sql", "3_states.sql", "2_index.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_an_enum_label_compared_with_a_column_comes_after_the_file_adding_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """procrastinate, scrambled: `UPDATE … WHERE status = 'aborting'` ran before the
    file adding the label ("invalid input value for enum"). A literal compared with an
    enum column (`=`, `<>`, `IN (…)`) or assigned to it (`SET status = …`) is read as a
    label of the column's type; with a text column, or a label the type was made with,
    it needs nothing more."""
    d = migration_dir(tmp_path, {
        "1_jobs.sql": "CREATE TYPE job_status AS ENUM ('todo', 'doing');\n"
                      "CREATE TABLE jobs (id int, status job_status, note text);\n",
        "2_flag.sql": "UPDATE jobs SET note = 'stop' WHERE note <> 'aborting'\n"
                      "  AND status IN ('todo', 'doing');\n"
                      "UPDATE jobs SET note = 'x' WHERE status = 'aborting';\n"
                      "UPDATE jobs SET status = 'stopped', note = 'y';\n",
        "3_states.sql": "ALTER TYPE job_status ADD VALUE 'aborting';\n"
                        "ALTER TYPE job_status ADD VALUE 'stopped';\n",
    })
    plan, order = plan_of(d)
    forward = [p for p in plan.problems if p.code == "CAL001"]
    assert [(p.path, p.line) for p in forward] == [("2_flag.sql", 3)]
    assert "(and 1 more use of what it creates)" in forward[0].message
    assert 'enum label "job_status.aborting"' in forward[0].message
    assert order == ["1_jobs.sql", "3_states.sql", "2_flag.sql"]
    assert pg_apply(pg_url, d, order) == []
    intact = migration_dir(_fresh(tmp_path / "intact"), {
        "1_jobs.sql": (d / "1_jobs.sql").read_text(),
        "2_states.sql": (d / "3_states.sql").read_text(),
        "3_flag.sql": (d / "2_flag.sql").read_text(),
    })
    plan, order = plan_of(intact)
    assert plan.safe and plan.problems == [] and order == sorted(order)


def test_a_column_retyped_over_two_lines_has_the_type_of_the_second(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """procrastinate, scrambled: the column's type came from `ALTER COLUMN status` with
    `TYPE job_status` on the next line, where it was not looked for: the compared label
    needed nothing, and the file ran before the one adding it."""
    d = migration_dir(tmp_path, {
        "1_jobs.sql": "CREATE TYPE job_status AS ENUM ('todo');\n"
                      "CREATE TABLE jobs (id int, status text);\n",
        "2_retype.sql": "ALTER TABLE jobs ALTER COLUMN status\n"
                        "  TYPE job_status USING status::job_status;\n",
        "3_flag.sql": "UPDATE jobs SET id = 1 WHERE status = 'aborting';\n",
        "4_states.sql": "ALTER TYPE job_status ADD VALUE 'aborting';\n",
    })
    plan, order = plan_of(d)
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["3_flag.sql"]
    assert order == ["1_jobs.sql", "2_retype.sql", "4_states.sql", "3_flag.sql"]
    assert pg_apply(pg_url, d, order) == []
    # trigger.dev: a use before its own file's retype has the type from before; an
    # intact history, with no alarm (the label is the old type's, not the new one's)
    intact = migration_dir(_fresh(tmp_path / "intact"), {
        "1_jobs.sql": "CREATE TYPE st AS ENUM ('a', 'b');\nCREATE TABLE j (s st);\n",
        "2_swap.sql": "UPDATE j SET s = 'b' WHERE s = 'a';\n"
                      "CREATE TYPE st2 AS ENUM ('b');\n"
                      "ALTER TABLE j ALTER COLUMN s TYPE st2 USING s::text::st2;\n",
        "3_more.sql": "ALTER TYPE st2 ADD VALUE 'a';\n",
    })
    plan, order = plan_of(intact)
    assert plan.safe and plan.problems == [] and order == sorted(order)
    assert pg_apply(pg_url, intact, order) == []


def test_a_label_of_an_enum_prisma_remade_comes_after_the_file_adding_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """trigger.dev, injected: Prisma drops a label by making the enum again under a new
    name and renaming it into the old one; a label cast to it (`'C'::"T"`) that a later
    file adds was then unknown, so the file using it was not flagged and ran first."""
    d = migration_dir(tmp_path, {
        "1_init.sql": "CREATE TYPE \"T\" AS ENUM ('A', 'B');\nCREATE TABLE c (t \"T\"[]);\n",
        "2_swap.sql": "CREATE TYPE \"T_new\" AS ENUM ('A');\n"
                      "ALTER TABLE c ALTER COLUMN t TYPE \"T_new\"[] "
                      "USING (t::text::\"T_new\"[]);\n"
                      "ALTER TYPE \"T\" RENAME TO \"T_old\";\n"
                      "ALTER TYPE \"T_new\" RENAME TO \"T\";\nDROP TYPE \"T_old\";\n",
        "3_use.sql": "UPDATE c SET t = array_replace(t, 'A'::\"T\", 'C'::\"T\");\n",
        "4_add.sql": "ALTER TYPE \"T\" ADD VALUE 'C';\n",
    })
    plan, order = plan_of(d)
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["3_use.sql"]
    assert order == ["1_init.sql", "2_swap.sql", "4_add.sql", "3_use.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_a_column_retyped_to_a_builtin_type_names_no_enum(tmp_path: Path) -> None:
    """The review's Prisma history: `SET DATA TYPE TEXT` names no type the analysis sees;
    the next statement's `ALTER TYPE "Status"` is not the column's type, and the literal
    compared with the (now text) column is no label: filename order, no alarm."""
    d = migration_dir(tmp_path, {
        "1_init.sql": "CREATE TYPE \"Status\" AS ENUM ('ACTIVE');\n"
                      "CREATE TYPE \"Kind\" AS ENUM ('EMAIL');\n"
                      "CREATE TABLE \"Job\" (id int, \"kind\" \"Kind\");\n",
        "2_kind_text.sql": "ALTER TABLE \"Job\" ALTER COLUMN \"kind\" SET DATA TYPE TEXT;\n"
                           "ALTER TYPE \"Status\" ADD VALUE 'PAUSED';\n",
        "3_backfill.sql": "UPDATE \"Job\" SET \"kind\" = 'SMS' "
                          "WHERE \"kind\" = 'TEXT_MESSAGE';\n",
        "4_status.sql": "ALTER TYPE \"Status\" ADD VALUE 'TEXT_MESSAGE';\n",
    })
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(order)


# histories that apply in filename order, where a literal beside an enum column is no
# label of its type (the review's repros)
_NO_LABEL_USE = {
    "concatenated": {  # `||` reads the literal as text
        "1_init.sql": "CREATE TYPE st AS ENUM ('a', 'b');\n"
                      "CREATE TABLE t (id int, status st, note text);\n",
        "2_q.sql": "UPDATE t SET note = status || 'c';\n",
        "3_add.sql": "ALTER TYPE st ADD VALUE 'c';\n",
    },
    "type renamed, its name reused": {
        "1_init.sql": "CREATE TYPE st AS ENUM ('a', 'b');\n"
                      "CREATE TABLE t (id int, status st);\n",
        "2_rename.sql": "ALTER TYPE st RENAME TO job_state;\n"
                        "ALTER TYPE job_state ADD VALUE 'c';\n",
        "3_use.sql": "UPDATE t SET status = 'c' WHERE status = 'a';\n",
        "4_new_st.sql": "CREATE TYPE st AS ENUM ('c', 'd');\n",
    },
}


@pytest.mark.parametrize("name", sorted(_NO_LABEL_USE))
def test_a_literal_beside_an_enum_column_is_no_label_when_postgres_reads_another_type(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    files = _NO_LABEL_USE[name]
    d = migration_dir(tmp_path, files)
    assert pg_apply(pg_url, d, sorted(files)) == []
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(files)


def test_a_cycle_keeps_its_place_and_the_files_after_it_stay_put(tmp_path: Path) -> None:
    """Two files that need each other (a cycle, reported) between files that need
    neither: the cycle is broken where it stands, not after every file that could go
    first — which moved the cycle's files and everything needing them after the rest
    (an injected hatchet history moved 89 files for a cycle of two)."""
    files = {"1_base.sql": "CREATE TABLE base (id int);\n",
             "2_x.sql": "CREATE TABLE x (id int);\nCREATE VIEW vy AS SELECT id FROM y;\n",
             "3_y.sql": "CREATE TABLE y (id int);\nCREATE VIEW vx AS SELECT id FROM x;\n",
             "4_uses_x.sql": "CREATE VIEW wx AS SELECT id FROM x;\n"}
    files.update({f"{n}_t{n}.sql": f"CREATE TABLE t{n} (id int);\n" for n in range(5, 9)})
    plan, order = plan_of(migration_dir(tmp_path, files))
    assert order == sorted(files, key=lambda name: int(name.split("_")[0]))
    assert [p.code for p in plan.problems if p.severity == "error"].count("CAL002") == 1


_TWICE = {  # a table created, dropped by a redesign, and created again with other columns
    "first": 'CREATE TABLE "Alias" (id text PRIMARY KEY, "versionId" text, alias text);\n'
             'ALTER TABLE "Alias" ADD CONSTRAINT "Alias_versionId_fkey"\n'
             '  FOREIGN KEY ("versionId") REFERENCES "Alias" (id);\n',
    "drop": 'ALTER TABLE "Alias" DROP CONSTRAINT "Alias_versionId_fkey";\n'
            'DROP TABLE "Alias";\n',
    "second": 'CREATE TABLE "Alias" (id text PRIMARY KEY, "instanceId" text, name text);\n',
    "use": 'ALTER TABLE "Alias" ADD COLUMN env text;\n'
           'CREATE UNIQUE INDEX "Alias_name_key" ON "Alias" ("instanceId", name);\n',
}


def _numbered(root: Path, names: Sequence[str]) -> Path:
    root.mkdir()
    return migration_dir(root, {f"{i}_{k}.sql": _TWICE[k] for i, k in enumerate(names, 1)})


def test_a_table_created_twice_is_told_apart_by_its_columns(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled trigger.dev): whatever the names, a file using a column (or
    constraint) only one definition of a table has means that definition: it runs after
    that definition's creator and before its drop, and the drop of the first definition
    runs before the second is created."""
    import itertools

    working = ["first", "drop", "second", "use"]
    for n, names in enumerate(itertools.permutations(working)):
        d = _numbered(tmp_path / str(n), names)
        _, order = plan_of(d)
        assert [p.split("_", 1)[1][:-4] for p in order] == working, names
    d = _numbered(tmp_path / "pg", ["use", "second", "drop", "first"])
    plan, order = plan_of(d)
    assert not plan.safe  # every one of them is misnumbered
    assert pg_apply(pg_url, d, order) == []
    # in the working order, nothing moves and nothing is reported
    d = _numbered(tmp_path / "intact", working)
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(order)


def test_the_plain_create_of_a_function_comes_before_its_replacements(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """procrastinate, scrambled: `CREATE OR REPLACE f(int)` sorted before the plain
    `CREATE FUNCTION f(int)`, and the plain one then failed ("already exists with same
    argument types"). In a misordered history (here: a view before its table) the plain
    definition comes first; other overloads of the name need no order against it."""
    make = "CREATE FUNCTION {}(x {}) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
    replace = make.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    d = migration_dir(tmp_path, {
        "0_view.sql": "CREATE VIEW v AS SELECT id FROM t;\n",
        "1_fix.sql": replace.format("retry", "int"),
        "2_other.sql": make.format("retry", "text"),
        "3_make.sql": make.format("retry", "int"),
        "4_table.sql": "CREATE TABLE t (id int);\n",
    })
    plan, order = plan_of(d)
    forward = {p.path: p.message for p in plan.problems if p.code == "CAL001"}
    assert set(forward) == {"0_view.sql", "1_fix.sql"}
    assert "3_make.sql" in forward["1_fix.sql"]
    assert order.index("3_make.sql") < order.index("1_fix.sql")
    assert pg_apply(pg_url, d, order) == []


# (R: CREATE OR REPLACE f(int), P: the plain CREATE) what may remove f between them
_GONE_BETWEEN = [
    "DROP FUNCTION f;\n", "DROP FUNCTION IF EXISTS public.f;\n", "DROP ROUTINE f(int);\n",
    "ALTER FUNCTION f(int) RENAME TO f_old;\n",
    "CREATE SCHEMA archive;\nALTER FUNCTION f(int) SET SCHEMA archive;\n",
]


def test_a_replacement_before_the_plain_create_is_no_alarm_when_something_removes_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """The review's histories: `R; <removal>; P` runs in filename order, so --check
    passes (the plain-first order is only looked for in a misordered history); with a
    table misordered too, a removal the analysis sees keeps R and P in filename order,
    and the plan applies."""
    import psycopg

    def empty() -> str:  # the test's database, as new
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS archive CASCADE")
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return pg_url

    make = "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
    replace = make.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    for n, removal in enumerate(_GONE_BETWEEN):
        files = {"1_a.sql": replace, "2_b.sql": removal, "3_c.sql": make,
                 "5_use.sql": "CREATE VIEW w AS SELECT f(1) AS a;\n"}
        (tmp_path / f"intact{n}").mkdir()
        d = migration_dir(tmp_path / f"intact{n}", files)
        plan, order = plan_of(d)
        assert plan.safe and plan.problems == [] and order == sorted(order), removal
        assert pg_apply(empty(), d, order) == [], removal
        (tmp_path / f"misordered{n}").mkdir()
        d = migration_dir(tmp_path / f"misordered{n}", {
            **files, "0_v.sql": "CREATE VIEW v AS SELECT * FROM t;\n",
            "4_t.sql": "CREATE TABLE t (id int);\n"})
        plan, order = plan_of(d)
        assert [p.path for p in plan.problems if p.code == "CAL001"] == ["0_v.sql"], removal
        assert pg_apply(empty(), d, order) == [], removal


def test_a_function_is_dropped_after_the_default_that_calls_it_is_dropped(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`DROP FUNCTION f()` fails while a column's default calls f ("other objects depend
    on it"): it keeps its filename order after the file that drops (or replaces) that
    default, also when that file moves for another need."""
    _released_in_a_moving_file(tmp_path, pg_url, pg_apply, {
        "1_make.sql": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
                      "CREATE TABLE t (id int, c int DEFAULT f(), d int DEFAULT f());\n",
        "2_nodefault.sql": "ALTER TABLE t ALTER COLUMN c DROP DEFAULT;\n"
                           "ALTER TABLE t ALTER COLUMN d SET DEFAULT 0;\n"
                           "ALTER TABLE t ADD COLUMN r int REFERENCES later (id);\n",
        "3_drop.sql": "DROP FUNCTION f();\n",
        "4_later.sql": "CREATE TABLE later (id int PRIMARY KEY);\n",
    })


def _fresh(directory: Path) -> Path:
    directory.mkdir()
    return directory


def test_a_function_is_dropped_after_the_table_of_its_trigger_is_rebuilt(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """graphile-worker, scrambled: the file dropping `bump()` sorted before the file that
    renames the trigger's table away and drops it ("other objects depend on it"). In a
    misordered history (here also a view before its table) the drop follows the file
    that frees the function; an intact history keeps its order and raises no alarm."""
    files = {
        "0_view.sql": "CREATE VIEW v AS SELECT id FROM t;\n",
        "1_jobs.sql": _JOBS_WITH_TRIGGER,
        "2_tidy.sql": "DROP FUNCTION bump();\n",
        "3_rebuild.sql": "ALTER TABLE jobs RENAME TO jobs_legacy;\n"
                         "CREATE TABLE jobs (id bigint);\n"
                         "INSERT INTO jobs SELECT id FROM jobs_legacy;\n"
                         "DROP TABLE jobs_legacy;\n",
        "4_table.sql": "CREATE TABLE t (id int);\n",
    }
    d = migration_dir(_fresh(tmp_path / "mixed"), files)
    plan, order = plan_of(d)
    assert order.index("3_rebuild.sql") < order.index("2_tidy.sql")
    reason = next(f.reason for f in plan.files if f.path == "2_tidy.sql")
    assert reason == 'needs function "bump" freed (line 1) from 3_rebuild.sql'
    assert pg_apply(pg_url, d, order) == []
    intact = {"1_jobs.sql": files["1_jobs.sql"], "2_rebuild.sql": files["3_rebuild.sql"],
              "3_tidy.sql": files["2_tidy.sql"]}
    plan, order = plan_of(migration_dir(_fresh(tmp_path / "intact"), intact))
    assert plan.safe and plan.problems == [] and order == sorted(intact)


def test_a_drop_cascade_needs_no_file_freeing_it(tmp_path: Path) -> None:
    """`DROP FUNCTION bump() CASCADE` takes the trigger with it: a later `DROP TRIGGER IF
    EXISTS` of that trigger is no removal the drop waits for (the review's repro, where
    it closed a cycle with a real use). Only the view before its table moves."""
    d = migration_dir(tmp_path, {
        "0_view.sql": "CREATE VIEW v AS SELECT id FROM t;\n",
        "1_jobs.sql": _JOBS_WITH_TRIGGER,
        "2_tidy.sql": "DROP FUNCTION bump() CASCADE;\n"
                      "CREATE FUNCTION bump2() RETURNS trigger LANGUAGE plpgsql\n"
                      "AS $$ BEGIN RETURN NEW; END $$;\n"
                      "CREATE TRIGGER jobs_bump2 AFTER INSERT ON jobs\n"
                      "  FOR EACH ROW EXECUTE FUNCTION bump2();\n",
        "3_rebuild.sql": "DROP TRIGGER IF EXISTS jobs_bump ON jobs;\n"
                         "DROP TRIGGER jobs_bump2 ON jobs;\n",
        "4_table.sql": "CREATE TABLE t (id int);\n",
    })
    plan, order = plan_of(d)
    assert [(p.code, p.path) for p in plan.problems] == [("CAL001", "0_view.sql")]
    assert order == ["1_jobs.sql", "2_tidy.sql", "3_rebuild.sql", "4_table.sql", "0_view.sql"]


def test_a_column_added_to_the_table_a_later_file_rebuilds_runs_before_the_rebuild(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """graphile-worker, scrambled: the file adding `revision` sorted after the file that
    renames `jobs` to `jobs_legacy`, makes `jobs` again with `revision` and copies
    `legacy.revision` over. On the new table the ADD COLUMN fails ("already exists"):
    it altered the old one, so it runs before the rebuild."""
    files = {
        "0_view.sql": "CREATE VIEW v AS SELECT id FROM t;\n",
        "1_jobs.sql": "CREATE TABLE jobs (id int);\n",
        "2_rebuild.sql": "ALTER TABLE jobs RENAME TO jobs_legacy;\n"
                         "CREATE TABLE jobs (id int, revision int);\n"
                         "INSERT INTO jobs SELECT legacy.id, legacy.revision\n"
                         "  FROM jobs_legacy legacy;\n"
                         "DROP TABLE jobs_legacy;\n",
        "3_revision.sql": "ALTER TABLE jobs ADD COLUMN revision int DEFAULT 0 NOT NULL;\n",
        "4_table.sql": "CREATE TABLE t (id int);\n",
    }
    d = migration_dir(_fresh(tmp_path / "mixed"), files)
    plan, order = plan_of(d)
    assert order.index("3_revision.sql") < order.index("2_rebuild.sql")
    assert not plan.safe
    assert pg_apply(pg_url, d, order) == []
    intact = {"1_jobs.sql": files["1_jobs.sql"], "2_revision.sql": files["3_revision.sql"],
              "3_rebuild.sql": files["2_rebuild.sql"]}
    plan, order = plan_of(migration_dir(_fresh(tmp_path / "intact"), intact))
    assert plan.safe and plan.problems == [] and order == sorted(intact)


# A: f(int); X: drops f by name alone and makes it again; B: a second overload beside
# it; C: drops f(int) by its arguments. After B and before C, X's drop meets two
# overloads, which PostgreSQL refuses ("function name "f" is not unique")
_OVERLOADS = {
    "0_a.sql": "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n",
    "1_b.sql": "CREATE FUNCTION f(a int, b int) RETURNS int LANGUAGE sql AS $$ SELECT 2 $$;\n",
    "2_x.sql": "DROP FUNCTION IF EXISTS f;\n"
               "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$ SELECT 3 $$;\n",
    "3_c.sql": "DROP FUNCTION f(int);\n",
}


def test_a_drop_by_name_runs_where_one_overload_exists(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """procrastinate, scrambled: `DROP FUNCTION IF EXISTS f` (no arguments) placed after
    the file adding a second overload and before the file dropping the first. In a
    misordered history (here also a view before its table) the plan replays the
    overloads and moves the drop out of that window: before the second overload's file.
    A history in filename order is all the analysis has: it keeps it, with no alarm."""
    plan, order = plan_of(migration_dir(_fresh(tmp_path / "as-numbered"), _OVERLOADS))
    assert plan.safe and order == sorted(order)
    d = migration_dir(_fresh(tmp_path / "misordered"), {
        **_OVERLOADS, "0_view.sql": "CREATE VIEW v AS SELECT id FROM u;\n",
        "5_table.sql": "CREATE TABLE u (id int);\n"})
    plan, order = plan_of(d)
    assert order.index("2_x.sql") < order.index("1_b.sql")
    assert pg_apply(pg_url, d, order) == []


_MISORDERED = {"0_view.sql": "CREATE VIEW w AS SELECT id FROM u;\n",
               "9_table.sql": "CREATE TABLE u (id int);\n"}
_SQL_FN = "RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"


@pytest.mark.parametrize("files", [
    {  # DROP ROUTINE names its overload: it is no drop by name
        "1_p.sql": "CREATE FUNCTION f(a int) " + _SQL_FN,
        "2_p2.sql": "CREATE FUNCTION f(a int, b int) " + _SQL_FN,
        "3_drop.sql": "DROP ROUTINE f(int);\n"},
    {  # a schema dropped with its functions: the replay leaves them alone
        "1_app.sql": "CREATE SCHEMA app;\nCREATE FUNCTION app.f(a int) " + _SQL_FN,
        "2_reset.sql": "DROP SCHEMA IF EXISTS app CASCADE;\nCREATE SCHEMA app;\n",
        "3_f2.sql": "CREATE FUNCTION app.f(a int, b int) " + _SQL_FN,
        "4_drop.sql": "DROP FUNCTION app.f;\n"},
], ids=["drop-routine", "schema-dropped"])
def test_the_overload_replay_moves_nothing_it_cannot_follow(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        files: dict[str, str]) -> None:
    """The review's histories: each applies in filename order, and misordered elsewhere
    (a view before its table) the plan keeps those files in that order."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS app CASCADE")
        conn.execute("DROP FUNCTION IF EXISTS f(int, int)")
        conn.execute("DROP FUNCTION IF EXISTS f(int)")
    d = migration_dir(tmp_path, {**files, **_MISORDERED})
    plan, order = plan_of(d)
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["0_view.sql"]
    assert [p for p in order if p not in _MISORDERED] == sorted(files)
    assert pg_apply(pg_url, d, order) == []



def test_uses_after_a_rebuild_bind_to_it_when_the_first_table_sorts_late(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """The protocol's injection (hatchet, trigger.dev at other seeds): the file making
    `t` sorts after the file that rebuilds `t` (`CREATE t_new; DROP t; RENAME`). The
    later files were read as using the misnamed file's `t`, so they waited for the
    rebuild's drop and ran on the old table (no `b`: the index failed); they use the
    rebuilt one and run after it."""
    files = {
        "1_other.sql": "CREATE TABLE other (id int);\n",
        "2_rebuild.sql": "CREATE TABLE t_new (a int, b int);\n"
                         "INSERT INTO t_new (a) SELECT a FROM t;\n"
                         "DROP TABLE t;\nALTER TABLE t_new RENAME TO t;\n",
        "2_rebuild_zz_t.sql": "CREATE TABLE t (a int);\n",
        "3_add.sql": "ALTER TABLE t ADD COLUMN c int;\nCREATE INDEX t_b ON t (b);\n",
        "4_use.sql": "UPDATE t SET c = 1 WHERE b = 2;\n",
    }
    d = migration_dir(tmp_path, files)
    plan, order = plan_of(d)
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["2_rebuild.sql"]
    assert order == ["1_other.sql", "2_rebuild_zz_t.sql", "2_rebuild.sql", "3_add.sql",
                     "4_use.sql"]
    assert pg_apply(pg_url, d, order) == []


@pytest.mark.parametrize("dropping", [
    "DROP TRIGGER IF EXISTS t_audit ON t;\nDROP FUNCTION IF EXISTS audit();\n",
    "ALTER TABLE t DROP COLUMN IF EXISTS legacy;\n",
], ids=["trigger", "column"])
def test_a_guarded_drop_runs_after_a_creator_that_sorts_too_late(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], dropping: str) -> None:
    """The protocol's injection (hatchet at seed 9, harbor at seeds 1, 2, 8–10): the file
    making `audit()` and its trigger (or adding `legacy` IF NOT EXISTS) sorts after the
    file dropping them IF EXISTS, and the plan ran it just before its first user: the
    drop did nothing, and the history ended with objects it had dropped. It runs before
    the drop; a use after the drop keeps filename order (the object made again)."""
    files = {
        "1_t.sql": "CREATE TABLE t (id int, legacy int);\n",
        "2_drop.sql": dropping,
        "3_user.sql": "INSERT INTO u (id) VALUES (1);\n",
        "3_user_zz_make.sql": "CREATE TABLE u (id int);\n"
                              "ALTER TABLE t ADD COLUMN IF NOT EXISTS legacy int;\n"
                              "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql\n"
                              "  AS $$ BEGIN RETURN NEW; END $$;\n"
                              "CREATE TRIGGER t_audit AFTER INSERT ON t\n"
                              "  FOR EACH ROW EXECUTE FUNCTION audit();\n",
    }
    d = migration_dir(tmp_path, files)
    plan, order = plan_of(d)
    assert order == ["1_t.sql", "3_user_zz_make.sql", "2_drop.sql", "3_user.sql"]
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["3_user.sql"]
    assert pg_apply(pg_url, d, order) == []
    import psycopg

    with psycopg.connect(pg_url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_proc WHERE proname = 'audit'").fetchone()
        column = conn.execute("SELECT count(*) FROM information_schema.columns "
                              "WHERE table_name = 't' AND column_name = 'legacy'").fetchone()
    assert (left, column) == (((0,), (1,)) if "TRIGGER" in dropping else ((1,), (0,)))
    # the object used after the drop: made again on purpose, filename order kept
    again = {**files, "2_drop_then_use.sql": "INSERT INTO t (legacy) VALUES (1);\n"} \
        if "COLUMN" in dropping else {**files, "2_drop_then_use.sql": "SELECT audit();\n"}
    plan, order = plan_of(migration_dir(_fresh(tmp_path / "again"), again))
    assert order.index("2_drop.sql") < order.index("3_user_zz_make.sql")


def test_a_table_read_in_a_trigger_body_is_still_needed_by_create_trigger_on_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """matrix-synapse, scrambled: the trigger function's body reads `locks` (a use needed
    only later), then `CREATE TRIGGER … ON locks` needs it when it runs. The file kept
    only its first use of the table, the weak one, so it was not flagged and ran before
    the file creating the table."""
    d = migration_dir(tmp_path, {
        "1_trigger.sql": "CREATE FUNCTION unlock() RETURNS trigger LANGUAGE plpgsql\n"
                         "  AS $$ BEGIN DELETE FROM locks WHERE id = OLD.id; "
                         "RETURN OLD; END $$;\n"
                         "DROP TRIGGER IF EXISTS unlock_t ON locks;\n"
                         "CREATE TRIGGER unlock_t AFTER DELETE ON locks\n"
                         "  FOR EACH ROW EXECUTE PROCEDURE unlock();\n",
        "2_locks.sql": "CREATE TABLE IF NOT EXISTS locks (id int);\n",
    })
    plan, order = plan_of(d)
    assert [(p.path, p.code, p.line) for p in plan.problems] == [("1_trigger.sql", "CAL001", 4)]
    assert order == ["2_locks.sql", "1_trigger.sql"]
    assert pg_apply(pg_url, d, order) == []


@pytest.mark.parametrize(("dropping", "making"), [
    ("DROP FUNCTION IF EXISTS audit();\n",
     "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql\n"
     "  AS $$ BEGIN RETURN NEW; END $$;\n"
     "CREATE TRIGGER t_audit AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION audit();\n"),
    ("ALTER TABLE t DROP COLUMN IF EXISTS c;\n",
     "ALTER TABLE t ADD COLUMN c int;\nCREATE VIEW tv AS SELECT c FROM t;\n"),
    ("DROP TABLE IF EXISTS p;\n",
     "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE w (id int REFERENCES p);\n"),
    ("DROP TYPE IF EXISTS mood;\n",
     "CREATE TYPE mood AS ENUM ('a');\nCREATE TABLE w (id int, m mood);\n"),
], ids=["trigger-runs-it", "view-over-it", "key-to-it", "column-of-it"])
def test_a_guarded_drop_stays_before_a_creator_whose_objects_depend_on_what_it_drops(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], dropping: str,
        making: str) -> None:
    """The review's histories: the late creator also makes something that depends on the
    object (and the dropping file leaves it alone); before the drop, the drop fails
    ("other objects depend on it"), so the pair keeps filename order."""
    d = migration_dir(tmp_path, {
        "1_t.sql": "CREATE TABLE t (id int);\n",
        "2_drop.sql": dropping,
        "3_user.sql": "INSERT INTO u (id) VALUES (1);\n",
        "3_user_zz_make.sql": "CREATE TABLE u (id int);\n" + making,
    })
    plan, order = plan_of(d)
    assert [p.path for p in plan.problems if p.code == "CAL001"] == ["3_user.sql"]
    assert order == ["1_t.sql", "2_drop.sql", "3_user_zz_make.sql", "3_user.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_a_column_read_under_the_name_a_rebuild_gave_its_table_needs_the_file_adding_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """graphile-worker's rebuild: `ALTER TABLE jobs RENAME TO jobs_legacy`, then `INSERT …
    SELECT legacy.revision FROM jobs_legacy legacy`. No file adds `revision` to
    `jobs_legacy`; the column came with the rename, so the rebuilding file needs the file
    that added it to `jobs`. It was missed, and a rebuild numbered before that file ran
    first ("column legacy.revision does not exist")."""
    rebuild = ("ALTER TABLE jobs RENAME TO jobs_legacy;\n"
               "CREATE TABLE jobs (id int, revision int);\n"
               "INSERT INTO jobs (id, revision)\n"
               "  SELECT legacy.id, legacy.revision FROM jobs_legacy legacy;\n"
               "DROP TABLE jobs_legacy;\n")
    d = migration_dir(tmp_path, {
        "1_jobs.sql": "CREATE TABLE jobs (id int);\n",
        # (moves for its own need: the rebuild must follow it)
        "2_revision.sql": "ALTER TABLE jobs ADD COLUMN revision int;\n"
                          "CREATE INDEX jobs_revision ON jobs (revision) WHERE id > 0;\n"
                          "INSERT INTO flags VALUES (1);\n",
        "3_rebuild.sql": rebuild,
        "4_flags.sql": "CREATE TABLE flags (id int);\n",
    })
    plan, order = plan_of(d)
    assert [(p.path, p.code) for p in plan.problems] == [("2_revision.sql", "CAL001")]
    assert order == ["1_jobs.sql", "4_flags.sql", "2_revision.sql", "3_rebuild.sql"]
    assert pg_apply(pg_url, d, order) == []
    rebuilding = next(f for f in plan.files if f.path == "3_rebuild.sql")
    assert ("2_revision.sql", 'column "jobs_legacy.revision"') in [
        (n.path, n.object) for n in rebuilding.depends_on]


def test_alter_type_attribute_needs_the_composite_type_not_a_table(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`ALTER TYPE spec ALTER ATTRIBUTE …` (parsed as an ALTER TABLE of the composite type)
    was read as a use of a *table* `spec` that no file makes, so its file could run
    before the `CREATE TYPE spec AS (…)` it needs (graphile-worker, injected)."""
    d = migration_dir(tmp_path, {
        "1_alter.sql": "ALTER TYPE spec ALTER ATTRIBUTE priority TYPE smallint;\n",
        "2_spec.sql": "CREATE TYPE spec AS (name text, priority int);\n",
    })
    plan, order = plan_of(d)
    assert [(p.path, p.code) for p in plan.problems] == [("1_alter.sql", "CAL001")]
    assert "type" in plan.problems[0].message
    assert order == ["2_spec.sql", "1_alter.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_an_index_dropped_by_the_name_postgres_gave_it_needs_its_creator(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`CREATE INDEX ON jobs (priority, run_at)` makes `jobs_priority_run_at_idx`; a later
    `DROP INDEX jobs_priority_run_at_idx` was "an index no migration creates", so nothing
    kept it after its creator when that moved. The name is PostgreSQL's guess (it adds a
    number when the name is taken), so a use *before* such a creator is never an alarm
    (the review's history: the index the drop meant was another one)."""
    d = migration_dir(tmp_path, {
        "1_jobs.sql": "CREATE TABLE jobs (priority int, run_at timestamptz);\n"
                      "CREATE INDEX ON jobs (priority, run_at);\n"
                      "INSERT INTO flags VALUES (1);\n",
        "2_drop.sql": "DROP INDEX jobs_priority_run_at_idx;\n",
        "3_flags.sql": "CREATE TABLE flags (id int);\n",
    })
    plan, order = plan_of(d)
    assert [(p.path, p.code) for p in plan.problems] == [("1_jobs.sql", "CAL001")]
    assert order == ["3_flags.sql", "1_jobs.sql", "2_drop.sql"]
    assert pg_apply(pg_url, d, order) == []
    (tmp_path / "guess").mkdir()
    d = migration_dir(tmp_path / "guess", {
        "1_t.sql": "CREATE TABLE t (a int);\nCREATE INDEX ON t ((a::text));\n",
        "2_drop.sql": "DROP INDEX t_a_idx;\n",  # PostgreSQL named the cast's index so
        "3_t.sql": "CREATE INDEX ON t (a);\n",  # and this one t_a_idx again
    })
    plan, order = plan_of(d)
    assert [p for p in plan.problems if p.severity == "error"] == []
    assert order == sorted(order)
    assert pg_apply(pg_url, d, order) == []


def test_a_do_block_variable_is_not_a_column(tmp_path: Path, pg_url: str,
                                             pg_apply: Callable[..., Any]) -> None:
    """harbor: `DO $$ DECLARE art_size bigint; … UPDATE artifact SET size = art_size` read
    `art_size` as a column of `artifact` ("which no migration creates"); a later file
    adding a column of that name made it a false CAL001 on an intact history. A bare name
    the block declares is its variable (PostgreSQL refuses a query where it could be both).
    System columns (`ctid`) are no one's to create either."""
    d = migration_dir(tmp_path, {
        "1_artifact.sql": "CREATE TABLE artifact (id int, size int);\n",
        "2_sizes.sql": "DO $$\nDECLARE\n  art RECORD;\n  art_size bigint;\nBEGIN\n"
                       "  FOR art IN SELECT * FROM artifact WHERE size = 0 LOOP\n"
                       "    art_size := 1;\n"
                       "    UPDATE artifact SET size = art_size WHERE id = art.id;\n"
                       "  END LOOP;\nEND $$;\n"
                       "DELETE FROM artifact a USING artifact b\n"
                       "  WHERE a.id = b.id AND a.ctid < b.ctid;\n",
        "3_art_size.sql": "ALTER TABLE artifact ADD COLUMN art_size bigint;\n",
    })
    plan, order = plan_of(d)
    assert plan.problems == []
    assert order == sorted(order)
    assert pg_apply(pg_url, d, order) == []
    # a name only an inner block declares may be a column in the outer one (the parser
    # does not say which block declares what: a body with a nested block declares none)
    (tmp_path / "nested").mkdir()
    d = migration_dir(tmp_path / "nested", {
        "1_t.sql": "CREATE TABLE t (id int);\n",
        "2_do.sql": "DO $$\nBEGIN\n  UPDATE t SET id = revision WHERE revision IS NULL;\n"
                    "  DECLARE\n    revision int := 0;\n  BEGIN\n"
                    "    RAISE NOTICE '%', revision;\n  END;\nEND $$;\n",
        "3_revision.sql": "ALTER TABLE t ADD COLUMN revision int;\n",
    })
    plan, order = plan_of(d)
    assert [(p.path, p.code) for p in plan.problems] == [("2_do.sql", "CAL001")]
    assert order == ["1_t.sql", "3_revision.sql", "2_do.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_a_trigger_comes_with_its_table_through_a_rename(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """graphile-worker: a trigger made on `jobs`, the table renamed `private_jobs`, then
    `DROP TRIGGER t ON private_jobs` — "a trigger no migration creates", so the drop was
    ordered by nothing and could run before the trigger existed."""
    files = {
        "1_jobs.sql": "CREATE TABLE jobs (id int);\n"
                      "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql\n"
                      "  AS $$ BEGIN RETURN NEW; END $$;\n"
                      "CREATE TRIGGER t AFTER INSERT ON jobs\n"
                      "  FOR EACH ROW EXECUTE FUNCTION touch();\n",
        "2_rename.sql": "ALTER TABLE jobs RENAME TO private_jobs;\n",
        "3_drop.sql": "DROP TRIGGER t ON private_jobs;\n",
    }
    for case in ("intact", "misordered"):
        (tmp_path / case).mkdir()
    plan, order = plan_of(migration_dir(tmp_path / "intact", files))
    assert plan.problems == [] and order == sorted(order)
    dropping = next(f for f in plan.files if f.path == "3_drop.sql")
    assert ("1_jobs.sql", 'trigger "private_jobs.t"') in [
        (n.path, n.object) for n in dropping.depends_on]
    d = migration_dir(tmp_path / "misordered", {
        "0_drop.sql" if name == "3_drop.sql" else name: text
        for name, text in files.items()})
    plan, order = plan_of(d)
    # (one finding per file it needs: the trigger's creator and the rename)
    assert {(p.path, p.code) for p in plan.problems} == {("0_drop.sql", "CAL001")}
    assert order == ["1_jobs.sql", "2_rename.sql", "0_drop.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_a_function_version_replaced_by_the_next_does_not_hold_back_its_users(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """graphile-worker, scrambled: each version of `add_job` is dropped by its arguments
    and the next created in the same file. The drop of one version was read as the end of
    the name, so every file using the name had to run before it — here `2_d.sql`, which
    drops `add_job` by name and needs `tasks` from `3_c.sql`, before `3_c.sql`'s
    `DROP FUNCTION add_job(int, int)`: a cycle. Here the rebinding mends it; in
    graphile-worker, with a dozen such files, it did not (47 % of files applied at seed
    1). The name outlives a version replaced by the next, so no such order is kept."""
    d = migration_dir(tmp_path, {
        "1_a.sql": "CREATE FUNCTION add_job(a int) RETURNS int LANGUAGE sql AS 'select 1';\n",
        "2_d.sql": "DROP FUNCTION add_job;\n"
                   "CREATE FUNCTION add_job(a text) RETURNS int LANGUAGE sql AS 'select 4';\n"
                   "INSERT INTO tasks VALUES (1);\n",
        "3_c.sql": "DROP FUNCTION add_job(int, int);\n"
                   "CREATE FUNCTION add_job(a int, b int, c int) RETURNS int LANGUAGE sql\n"
                   "  AS 'select 3';\n"
                   "CREATE TABLE tasks (id int);\n",
        "4_b.sql": "DROP FUNCTION IF EXISTS add_job(int);\n"
                   "CREATE FUNCTION add_job(a int, b int) RETURNS int LANGUAGE sql\n"
                   "  AS 'select 2';\n",
    })
    from calctl.sql.names.resolution import resolve

    names = sorted(p.name for p in d.iterdir())
    analyses = [analyse(AnalysisInput.of((d / n).read_text(), n)) for n in names]
    # (the reading in filename order: 2_d.sql binds `add_job` to 1_a.sql's version)
    held_back = [(names[e.provider], names[e.user]) for e in resolve(analyses).edges
                 if e.kind == "drops"]
    assert ("2_d.sql", "3_c.sql") not in held_back
    assert ("2_d.sql", "4_b.sql") not in held_back
    plan, order = plan_of(d)
    assert "CAL002" not in [p.code for p in plan.problems]
    assert order == ["1_a.sql", "4_b.sql", "3_c.sql", "2_d.sql"]
    assert pg_apply(pg_url, d, order) == []
    # a call needs the version it calls: it still runs before the file replacing it
    (tmp_path / "call").mkdir()
    d = migration_dir(tmp_path / "call", {
        "1_f.sql": "CREATE FUNCTION f(i int) RETURNS int LANGUAGE sql AS 'select i';\n",
        "2_use.sql": "SELECT f(1);\nINSERT INTO t (x) VALUES (1);\n",
        "3_replace.sql": "DROP FUNCTION IF EXISTS f(int);\n"
                         "CREATE FUNCTION f(t text) RETURNS int LANGUAGE sql\n"
                         "  AS 'select length(t)';\n",
        "4_t.sql": "CREATE TABLE t (x int);\n",
    })
    plan, order = plan_of(d)
    assert order == ["1_f.sql", "4_t.sql", "2_use.sql", "3_replace.sql"]
    assert pg_apply(pg_url, d, order) == []


_READDED = {
    "table": "CREATE TABLE run (id int, env int);\n"
             "CREATE UNIQUE INDEX run_env_key ON run (env);\n",
    "add": "ALTER TABLE run ADD COLUMN done timestamptz, ADD COLUMN output text NOT NULL;\n",
    "optional": "ALTER TABLE run ALTER COLUMN output DROP NOT NULL;\n",
    "drop": "ALTER TABLE run DROP COLUMN done, DROP COLUMN output;\n"
            "DROP INDEX run_env_key;\n",
    "again": "ALTER TABLE run ADD COLUMN done timestamptz;\n"
             "CREATE UNIQUE INDEX run_env_key ON run (env);\n",
}


def test_a_column_added_again_after_its_drop_is_told_apart_from_its_first_adder(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled trigger.dev, seeds 5 and 7): `TaskRun.completedAt` and `output`
    were added by one file, dropped by another, and one of them added again by a third;
    the index the table was made with was dropped and made again too. Whatever the
    names, the plan keeps the file adding both columns before the drop (it removes both)
    and the file adding one again after it; before, a name sorting the second adder
    first ran it before the drop: "column "completedAt" … already exists"."""
    _every_order_gives(tmp_path, _READDED, ["table", "add", "optional", "drop", "again"],
                       lambda d, order: pg_apply(pg_url, d, order))


def _every_order_gives(tmp_path: Path, files: dict[str, str], working: list[str],
                       apply: Callable[[Path, list[str]], list[Any]]) -> None:
    """Every naming of ``files`` plans ``working``'s order; the reversed naming's plan
    applies on PostgreSQL; named in the working order, nothing moves or is reported."""
    import itertools

    for n, names in enumerate(itertools.permutations(working)):
        root = tmp_path / str(n)
        root.mkdir()
        d = migration_dir(root, {f"{i}_{k}.sql": files[k] for i, k in enumerate(names, 1)})
        _, order = plan_of(d)
        assert [p.split("_", 1)[1][:-4] for p in order] == working, names
        if list(names) == working[::-1]:
            assert apply(d, order) == []
    (tmp_path / "intact").mkdir()
    d = migration_dir(tmp_path / "intact",
                      {f"{i}_{k}.sql": files[k] for i, k in enumerate(working, 1)})
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(order)


_REMADE = {
    "job": "CREATE TABLE inst (id int, version_id int);\n"
           "CREATE TABLE version (id int PRIMARY KEY, job int);\n"
           "ALTER TABLE inst ADD CONSTRAINT inst_version_fkey\n"
           "    FOREIGN KEY (version_id) REFERENCES version (id);\n",
    "simplify": "ALTER TABLE inst DROP CONSTRAINT inst_version_fkey;\n"
                "ALTER TABLE inst DROP COLUMN version_id;\n"
                "DROP TABLE version;\n",
    "redesign": "CREATE TABLE version (id int PRIMARY KEY, job int, endpoint text);\n"
                "DROP TABLE inst;\n",
    "trigger": "CREATE TABLE dyn (id int, version_id int REFERENCES version (id));\n",
    "remove": "DROP TABLE IF EXISTS dyn CASCADE;\n"
              "DROP TABLE IF EXISTS version CASCADE;\n",
}


def test_a_table_made_dropped_and_made_again_is_told_apart_from_its_first_definition(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled trigger.dev, seed 8: 91 %): `JobVersion` was made, dropped
    with the file's other tables, made again by a redesign, and dropped for good (IF
    EXISTS … CASCADE); a file adding a foreign key to it says nothing of which definition
    it means. Whatever the names, the first drop runs between the two definitions (it
    needs what only the first definition's file made), and the foreign key meets the
    second definition: the first drop does not remove it, so PostgreSQL would refuse that
    drop ("cannot drop table … because other objects depend on it"). Before, the names
    bound every use to the definition sorting nearest."""
    _every_order_gives(tmp_path, _REMADE, ["job", "simplify", "redesign", "trigger", "remove"],
                       lambda d, order: pg_apply(pg_url, d, order))


def test_a_guarded_drop_of_a_remade_table_is_its_last_drop_whatever_its_name(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12, from a review of the rule above: of a remade table's two drops, nothing
    but its guard tells a cleanup's `DROP TABLE IF EXISTS … CASCADE` from the plain drop
    between the definitions. Named first, it was taken for the first drop, the plain drop
    was paired with the second definition, and the file dropping the foreign key lost
    its need of the file adding it ("constraint … does not exist")."""
    d = migration_dir(tmp_path, {
        "03799807_m.sql": "ALTER TABLE child DROP CONSTRAINT child_parent_fk;\n",
        "14474750_m.sql": "DROP TABLE IF EXISTS parent CASCADE;\n",
        "17483013_m.sql": "CREATE TABLE parent (id int PRIMARY KEY, name text);\n"
                          "CREATE TABLE child (id int PRIMARY KEY, parent_id int);\n",
        "26500855_m.sql": "CREATE TABLE parent (id int PRIMARY KEY, title text);\n",
        "39044784_m.sql": "ALTER TABLE child ADD CONSTRAINT child_parent_fk\n"
                          "    FOREIGN KEY (parent_id) REFERENCES parent (id);\n",
        "49460406_m.sql": "DROP TABLE parent;\n",
    })
    _, order = plan_of(d)
    assert order.index("49460406_m.sql") < order.index("14474750_m.sql")
    assert pg_apply(pg_url, d, order) == []


def test_a_drop_cascade_of_a_remade_table_or_type_raises_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """`DROP TABLE parent CASCADE` removes the foreign key over `parent` with it (and
    `DROP TYPE mood CASCADE` the column of that type), so the holder made before the drop
    means the first definition, not the one made after it: filename order applies, and
    `--check` must pass (the review's repro: a false alarm before)."""
    d = migration_dir(tmp_path, {
        "1_make.sql": "CREATE TABLE parent (id int PRIMARY KEY);\n"
                      "CREATE TABLE child (id int PRIMARY KEY, parent_id int);\n"
                      "CREATE TYPE mood AS ENUM ('ok');\n",
        "2_hold.sql": "ALTER TABLE child ADD CONSTRAINT child_parent_fk\n"
                      "  FOREIGN KEY (parent_id) REFERENCES parent (id);\n"
                      "ALTER TABLE child ADD COLUMN feeling mood;\n",
        "3_drop.sql": "DROP TABLE parent CASCADE;\nDROP TYPE mood CASCADE;\n",
        "4_again.sql": "CREATE TABLE parent (id int PRIMARY KEY);\n"
                       "CREATE TYPE mood AS ENUM ('ok', 'sad');\n",
    })
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == []
    assert order == ["1_make.sql", "2_hold.sql", "3_drop.sql", "4_again.sql"]
    assert pg_apply(pg_url, d, order) == []


_RENAMED_AWAY = {
    "make": "CREATE TABLE jobs (id int PRIMARY KEY, queue text);\n",
    "remake": "ALTER TABLE jobs RENAME TO jobs_legacy;\n"
              "CREATE TABLE tasks (id int PRIMARY KEY);\n"
              "CREATE TABLE jobs (id int PRIMARY KEY, task_id int);\n"
              "INSERT INTO jobs (id) SELECT id FROM jobs_legacy;\n"
              "DROP TABLE jobs_legacy;\n",
    "use": "CREATE INDEX jobs_task_idx ON jobs (task_id);\n"
           "ALTER TABLE jobs ADD CONSTRAINT jobs_task_fk\n"
           "    FOREIGN KEY (task_id) REFERENCES tasks (id);\n",
    "private": "ALTER TABLE jobs RENAME TO _private_jobs;\n"
               "ALTER TABLE tasks RENAME TO _private_tasks;\n",
    "view": "CREATE VIEW jobs AS SELECT j.id, t.id AS task FROM _private_jobs j\n"
            "    JOIN _private_tasks t ON t.id = j.task_id;\n",
}


def test_a_table_renamed_away_and_made_again_is_told_apart_by_the_other_needs(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker): `jobs` is made, renamed away and made again
    in one file, renamed away again, and replaced by a view. Each rename away removes
    one definition; which one, and where a file using `jobs` runs, is told by the needs
    about objects one file makes (`tasks`, `_private_jobs`): the index and foreign key
    belong to the second table, after the file remaking it and before the one renaming
    it away (on the view: "cannot create index on relation "jobs""). Before, 42 of the
    120 namings bound them to the nearest definition by name and failed."""
    _every_order_gives(tmp_path, _RENAMED_AWAY, ["make", "remake", "use", "private", "view"],
                       lambda d, order: pg_apply(pg_url, d, order))


_VERSIONS = {
    "a": "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
    "b": "CREATE TABLE t (id int);\n",
    "c": "DROP FUNCTION f;\n"
         "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT count(*)::int FROM t';\n",
    "d": "DROP FUNCTION f;\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 2';\n",
}


def test_a_function_dropped_and_defined_again_needs_any_earlier_version(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker, where most files drop and define the same
    functions again): `DROP FUNCTION f` in a file defining `f` next needs some version
    of `f` before it, not the one whose file sorts nearest — that guess made the first
    definition, or a table, wait for a later version. For every naming, only the files
    dropping `f` move, and the plan applies."""
    import itertools

    for n, names in enumerate(itertools.permutations(_VERSIONS)):
        root = tmp_path / str(n)
        root.mkdir()
        d = migration_dir(root, {f"{i}_{k}.sql": _VERSIONS[k] for i, k in enumerate(names, 1)})
        plan, order = plan_of(d)
        assert {m.path.split("_", 1)[1][:-4] for m in plan.moves} <= {"c", "d"}, names
        keys = [p.split("_", 1)[1][:-4] for p in order]
        assert keys.index("a") < min(keys.index("c"), keys.index("d")), names
        assert keys.index("b") < keys.index("c"), names
        if names == tuple(reversed(_VERSIONS)):
            assert pg_apply(pg_url, d, order) == []


_ADDED_BEFORE_REMAKE = {
    "make": "CREATE TABLE jobs (id int PRIMARY KEY);\n",
    "add": "ALTER TABLE jobs ADD COLUMN locked_at timestamptz;\n",
    "remake": "ALTER TABLE jobs RENAME TO jobs_old;\n"
              "CREATE TABLE jobs (id int PRIMARY KEY, locked_at timestamptz);\n"
              "DROP TABLE jobs_old;\n",
}


def test_a_column_added_to_a_remade_table_means_the_definition_made_without_it(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker): `ADD COLUMN locked_at` cannot mean the
    definition made with `locked_at` ("column … already exists"), nor a view; with one
    definition left, the file means it and runs before the file remaking the table.
    Before, a name sorting the remake first bound the addition to the new table."""
    _every_order_gives(tmp_path, _ADDED_BEFORE_REMAKE, ["make", "add", "remake"],
                       lambda d, order: pg_apply(pg_url, d, order))


_RETIRED = {
    "a": "CREATE TABLE t (id int);\n"
         "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';\n",
    "b": "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x + 1';\n",
    "c": "DROP FUNCTION f(int);\n"
         "CREATE FUNCTION f(x int, y int) RETURNS int LANGUAGE sql AS 'SELECT x + y';\n",
    "d": "DROP FUNCTION f;\n"
         "CREATE FUNCTION f(x int, y int) RETURNS int LANGUAGE sql AS 'SELECT x * y';\n",
    "e": "CREATE VIEW v AS SELECT id FROM t;\n",
}


def test_a_replacement_of_a_retired_function_version_runs_before_its_drop(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker, seeds 6 and 8): `f(int)` is made, replaced
    (CREATE OR REPLACE), then dropped by its arguments in the file making `f(int, int)`.
    Run after that drop, the replacement makes `f(int)` again beside the new version,
    and the next `DROP FUNCTION f` fails ("function name "f" is not unique"). In a
    history the names already misorder (`e` is named first), the replacement runs
    before the drop whatever the names."""
    import itertools

    for n, names in enumerate(itertools.permutations("abcd")):
        root = tmp_path / str(n)
        root.mkdir()
        d = migration_dir(root, {"0_e.sql": _RETIRED["e"],
                                 **{f"{i}_{k}.sql": _RETIRED[k]
                                    for i, k in enumerate(names, 1)}})
        _, order = plan_of(d)
        keys = [p.split("_", 1)[1][:-4] for p in order]
        assert keys.index("b") < keys.index("c") < keys.index("d"), names
        if names == ("d", "c", "b", "a"):
            assert pg_apply(pg_url, d, order) == []


@pytest.mark.parametrize("files", [
    {  # a table dropped, a view made over its name, a view over that view
        "1_a.sql": "CREATE TABLE prices (sku text, amount numeric, currency text);\n",
        "2_b.sql": "DROP TABLE prices;\n"
                   "CREATE VIEW prices AS SELECT 'x'::text AS sku, 1::numeric AS amount;\n",
        "3_c.sql": "CREATE VIEW usd_prices AS SELECT sku, amount FROM prices;\n",
    },
    {  # a compatibility view over the renamed table, read by a later function
        "1_a.sql": "CREATE TABLE users (id int PRIMARY KEY, email text, name text);\n",
        "2_b.sql": "CREATE INDEX users_email_idx ON users (email);\n",
        "3_c.sql": "ALTER TABLE users RENAME TO users_v1;\n"
                   "CREATE VIEW users AS SELECT * FROM users_v1;\n",
        "4_d.sql": "CREATE FUNCTION user_email(int) RETURNS text LANGUAGE sql\n"
                   "AS $$SELECT email FROM users WHERE id = $1$$;\n",
    },
])
def test_a_view_made_over_a_freed_name_raises_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        files: dict[str, str]) -> None:
    """A view made where a table was dropped or renamed away may show any of the old
    table's columns, so a later use of those columns is no evidence for the old table
    (the review's repros: `--check` said the drop must wait for the use, and the plan
    ran the use first: "cannot drop table … because other objects depend on it")."""
    d = migration_dir(tmp_path, files)
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == []
    assert order == sorted(files)
    assert pg_apply(pg_url, d, order) == []


_TRIGGER_ON_RENAMED = {  # named as the review's scrambled run named them
    "65345413_m.sql": "CREATE TABLE jobs (id serial PRIMARY KEY, task text);\n"
                      "CREATE FUNCTION jobs_tg() RETURNS trigger LANGUAGE plpgsql\n"
                      "  AS $$BEGIN RETURN NEW; END$$;\n"
                      "CREATE TRIGGER jobs_t BEFORE INSERT ON jobs\n"
                      "  FOR EACH ROW EXECUTE FUNCTION jobs_tg();\n",
    "51802247_m.sql": "DROP FUNCTION jobs_tg CASCADE;\n"
                      "CREATE FUNCTION jobs_tg() RETURNS trigger LANGUAGE plpgsql\n"
                      "  AS $$BEGIN NEW.task := lower(NEW.task); RETURN NEW; END$$;\n"
                      "CREATE TRIGGER jobs_t BEFORE INSERT ON jobs\n"
                      "  FOR EACH ROW EXECUTE FUNCTION jobs_tg();\n",
    "78120950_m.sql": "ALTER TABLE jobs RENAME TO jobs_old;\n"
                      "ALTER INDEX jobs_pkey RENAME TO jobs_old_pkey;\n"
                      "CREATE TABLE jobs (id bigserial PRIMARY KEY, task text, attempts int);\n",
    "16219228_m.sql": "DROP TRIGGER jobs_t ON jobs_old;\n"
                      "DROP FUNCTION jobs_tg;\n"
                      "CREATE FUNCTION jobs_tg() RETURNS trigger LANGUAGE plpgsql\n"
                      "  AS $$BEGIN NEW.attempts := 0; RETURN NEW; END$$;\n"
                      "CREATE TRIGGER jobs_t BEFORE INSERT ON jobs\n"
                      "  FOR EACH ROW EXECUTE FUNCTION jobs_tg();\n",
    "04380348_m.sql": "INSERT INTO jobs (task) SELECT task FROM jobs_old;\n"
                      "DROP TABLE jobs_old;\n",
}

_FIRST_VERSION = {  # stats() gains a column in each version; a view reads one
    "80283441_m.sql": "CREATE FUNCTION stats() RETURNS TABLE (n int) LANGUAGE sql\n"
                      "  AS $$SELECT 1$$;\n",
    "00494976_m.sql": "DROP FUNCTION stats;\n"
                      "CREATE FUNCTION stats() RETURNS TABLE (n int, m int) LANGUAGE sql\n"
                      "  AS $$SELECT 1, 2$$;\n",
    "66790102_m.sql": "CREATE VIEW s AS SELECT m FROM stats();\n",
    "58872044_m.sql": "DROP VIEW s;\nDROP FUNCTION stats;\n"
                      "CREATE FUNCTION stats() RETURNS TABLE (n int, m int, k int)\n"
                      "  LANGUAGE sql AS $$SELECT 1, 2, 3$$;\n"
                      "CREATE VIEW s AS SELECT m, k FROM stats();\n",
}


@pytest.mark.parametrize("files", [_TRIGGER_ON_RENAMED, _FIRST_VERSION])
def test_the_review_s_scrambled_namings_of_remade_tables_and_versions_apply(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        files: dict[str, str]) -> None:
    """Issue 12, from a review of the rules above (each applied 1 of 4–5 files before
    its mend). A trigger dropped on the name a rename gave its table
    (`DROP TRIGGER jobs_t ON jobs_old`) runs after that rename and before the table's
    drop, though the names put the drop first and no file makes the trigger under that
    name. A function version's drop that no version sorts before needs the function's
    first version (the one made without a drop), not whichever version sorts next."""
    d = migration_dir(tmp_path, files)
    _, order = plan_of(d)
    assert pg_apply(pg_url, d, order) == []


_TRIGGER_MADE_BEFORE_RENAME = {  # named as the review's scrambled run named them
    "28466927_m.sql": "CREATE TABLE events (id serial PRIMARY KEY, kind text, body text);\n",
    "78587997_m.sql": "CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql\n"
                      "  AS $$BEGIN PERFORM pg_notify('ev', NEW.kind); RETURN NEW; END$$;\n"
                      "CREATE TRIGGER events_n AFTER INSERT ON events\n"
                      "  FOR EACH ROW EXECUTE FUNCTION events_notify();\n",
    "51665813_m.sql": "ALTER TABLE events RENAME TO events_archive;\n"
                      "ALTER INDEX events_pkey RENAME TO events_archive_pkey;\n"
                      "CREATE TABLE events (id bigserial PRIMARY KEY, kind text NOT NULL,\n"
                      "  payload jsonb);\n",
    "87312254_m.sql": "DROP TRIGGER events_n ON events_archive;\n"
                      "DROP FUNCTION events_notify;\n"
                      "CREATE FUNCTION events_notify() RETURNS trigger LANGUAGE plpgsql\n"
                      "  AS $$BEGIN PERFORM pg_notify('ev2', NEW.kind); RETURN NEW; END$$;\n"
                      "CREATE TRIGGER events_n AFTER INSERT ON events\n"
                      "  FOR EACH ROW EXECUTE FUNCTION events_notify();\n",
    "19447465_m.sql": "CREATE VIEW recent_events AS SELECT id, kind, payload FROM events;\n",
    "43249234_m.sql": "DROP TABLE events_archive;\n",
}


def test_a_trigger_dropped_under_a_renamed_table_s_name_was_made_before_the_rename(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12, from the review: `DROP TRIGGER events_n ON events_archive` means the
    trigger one other file made on `events` before `events` was renamed away, so that
    file runs before the rename; before, the names bound its `CREATE TRIGGER … ON
    events` to the table made after the rename, and the drop found no trigger."""
    d = migration_dir(tmp_path, _TRIGGER_MADE_BEFORE_RENAME)
    _, order = plan_of(d)
    assert order.index("78587997_m.sql") < order.index("51665813_m.sql")
    assert pg_apply(pg_url, d, order) == []


def _every_naming_keeps(tmp_path: Path, files: dict[str, str], before: list[str],
                        applied: tuple[str, ...], apply: Callable[[Path, list[str]], list[Any]],
                        fixed: dict[str, str] | None = None) -> None:
    """Every naming of ``files`` (after the ``fixed`` files, named as they are) plans the
    keys in ``before`` in that order; the plan of the naming ``applied`` applies."""
    import itertools

    for n, names in enumerate(itertools.permutations(files)):
        root = tmp_path / str(n)
        root.mkdir()
        d = migration_dir(root, {**(fixed or {}), **{f"{i}_{k}.sql": files[k]
                                                     for i, k in enumerate(names, 1)}})
        _, order = plan_of(d)
        keys = [p.split("_", 1)[1][:-4] for p in order]
        assert [keys.index(k) for k in before] == sorted(keys.index(k) for k in before), names
        if names == applied:
            assert apply(d, order) == []


_INDEX_OF_FIRST_TABLE = {  # graphile-worker: an index swapped on the first `jobs`
    "make": "CREATE TABLE jobs (id int PRIMARY KEY, run_at timestamptz);\n"
            "CREATE INDEX ON jobs (run_at);\n",
    "swap": "CREATE INDEX jobs_run_at_id ON jobs (run_at, id);\n"
            "DROP INDEX jobs_run_at_idx;\n",
    "remake": "ALTER TABLE jobs RENAME TO jobs_old;\n"
              "CREATE TABLE jobs (id int PRIMARY KEY, run_at timestamptz, task text);\n"
              "DROP TABLE jobs_old;\n",
}


def test_an_index_made_on_one_definition_of_a_remade_table_tells_its_users(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker, seed 1): the index PostgreSQL named
    `jobs_run_at_idx` is made on the first `jobs` only, so the file dropping it means
    that definition: after its file, before the file renaming it away (where a view
    made over the name later shows the same columns under the same names, the index
    still tells: a view has none). Before, the names bound the file to the later
    definition ("index "jobs_run_at_idx" does not exist")."""
    _every_naming_keeps(tmp_path, _INDEX_OF_FIRST_TABLE, ["make", "swap", "remake"],
                        ("remake", "swap", "make"), lambda d, o: pg_apply(pg_url, d, o))


_VERSION_CHAIN = {
    "a": "CREATE TABLE t (id int);\n"
         "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';\n",
    "b": "DROP FUNCTION f(int);\n"
         "CREATE FUNCTION f(x int, y int) RETURNS int LANGUAGE sql AS 'SELECT x + y';\n",
    "c": "DROP FUNCTION f(int, int);\n"
         "CREATE FUNCTION f(x int, y int, z int) RETURNS int LANGUAGE sql\n"
         "  AS 'SELECT x + y + z';\n",
    "d": "DROP FUNCTION f;\n"
         "CREATE FUNCTION f(x int, y int, z int, w int) RETURNS int LANGUAGE sql\n"
         "  AS 'SELECT x * y * z * w';\n",
    "e": "CREATE VIEW v AS SELECT id FROM t;\n",
}


def test_a_drop_by_name_runs_after_the_versions_dropped_by_their_arguments(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker, seeds 1 and 5): `f(int)` is made, dropped by
    its arguments where `f(int, int)` is made, and so on; `DROP FUNCTION f` removes
    whichever version exists, so it cannot run between a version's file and the drop
    naming that version's arguments ("function f(integer, integer) does not exist"),
    nor before the first version: it runs after the last file of that chain. In a
    history the names already misorder (`e` named first), whatever the names."""
    chain = {k: v for k, v in _VERSION_CHAIN.items() if k != "e"}
    _every_naming_keeps(tmp_path, chain, ["a", "b", "c", "d"], ("d", "c", "b", "a"),
                        lambda d, o: pg_apply(pg_url, d, o), {"0_e.sql": _VERSION_CHAIN["e"]})


_WRITES_BEFORE_VIEW = {  # graphile-worker: `jobs` becomes a view over a join
    "make": "CREATE TABLE tasks (id int PRIMARY KEY, name text);\n"
            "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n",
    "bump": "CREATE FUNCTION bump(job int) RETURNS SETOF jobs LANGUAGE sql\n"
            "  AS $$UPDATE jobs SET attempts = attempts + 1 WHERE id = job RETURNING *$$;\n",
    "private": "ALTER TABLE jobs RENAME TO _private_jobs;\n",
    "view": "CREATE VIEW jobs AS SELECT j.id, t.name, j.attempts\n"
            "  FROM _private_jobs j JOIN tasks t ON t.id = j.task_id;\n",
}


def test_a_file_writing_a_remade_table_does_not_mean_a_view_over_a_join(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker, seeds 1 and 5): a SQL function is checked
    when it is made, and one updating `jobs` cannot mean the view over a join made on
    the name at the end ("cannot update view "jobs""): among the definitions the other
    needs leave, a file writing the table's rows means a table (an `INSTEAD OF` trigger
    on the name would make the view writable, and the rule off). Before, a naming
    putting the function after the view bound it to the view."""
    _every_naming_keeps(tmp_path, _WRITES_BEFORE_VIEW, ["make", "bump", "private"],
                        ("view", "private", "bump", "make"),
                        lambda d, o: pg_apply(pg_url, d, o))


def test_a_file_writing_a_table_made_twice_before_a_view_means_one_of_the_tables(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker, seed 5): as above, with `jobs` made twice
    before the view; nothing tells which table the function writes, and either would
    do, but not the view: where the names bound it to the view, it now means the last
    table the other needs leave. (The file renaming `jobs` to `_private_jobs` removes
    the second table: the view reads `locked_at` through that rename, a column only the
    second table's file made.)"""
    import itertools

    files = {**_WRITES_BEFORE_VIEW,
             "remake": "ALTER TABLE jobs RENAME TO jobs_old;\n"
                       "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int,\n"
                       "  locked_at timestamptz);\n"
                       "DROP TABLE jobs_old;\n",
             "view": "CREATE VIEW jobs AS SELECT j.id, t.name, j.attempts, j.locked_at\n"
                     "  FROM _private_jobs j JOIN tasks t ON t.id = j.task_id;\n"}
    # (named last after the view, the function is bound to the view by the names)
    for n, first in enumerate(itertools.permutations(["make", "remake", "private"])):
        names = (*first, "view", "bump")
        root = tmp_path / str(n)
        root.mkdir()
        d = migration_dir(root, {f"{i}_{k}.sql": files[k] for i, k in enumerate(names, 1)})
        _, order = plan_of(d)
        keys = [p.split("_", 1)[1][:-4] for p in order]
        assert keys.index("make") < keys.index("bump") < keys.index("private"), names
        if names == ("private", "remake", "make", "view", "bump"):
            assert pg_apply(pg_url, d, order) == []


@pytest.mark.parametrize("files", [
    {  # a view with a subquery in its select list: writable
        "1_a.sql": "CREATE TABLE tasks (id int PRIMARY KEY, name text);\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO _private_jobs;\n"
                   "CREATE VIEW jobs AS SELECT j.id, j.task_id, j.attempts,\n"
                   "  (SELECT t.name FROM tasks t WHERE t.id = j.task_id) AS task_name\n"
                   "  FROM _private_jobs j;\n",
        "3_c.sql": "INSERT INTO jobs (id, task_id, attempts) VALUES (1, 1, 0);\n",
    },
    {  # a view filtering with EXISTS: writable
        "1_a.sql": "CREATE TABLE tasks (id int PRIMARY KEY, name text);\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO _private_jobs;\n",
        "3_c.sql": "CREATE VIEW jobs AS SELECT j.id, j.task_id, j.attempts\n"
                   "  FROM _private_jobs j WHERE EXISTS (SELECT 1 FROM tasks t\n"
                   "  WHERE t.id = j.task_id);\n",
        "4_d.sql": "CREATE FUNCTION bump(job int) RETURNS SETOF jobs LANGUAGE sql\n"
                   "  AS $$UPDATE jobs SET attempts = attempts + 1 WHERE id = job\n"
                   "  RETURNING *$$;\n",
    },
    {  # a join view given a DO INSTEAD rule: writable
        "1_a.sql": "CREATE TABLE tasks (id int PRIMARY KEY, name text);\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO _private_jobs;\n",
        "3_c.sql": "CREATE VIEW jobs AS SELECT j.id, t.name, j.attempts\n"
                   "  FROM _private_jobs j JOIN tasks t ON t.id = j.task_id;\n"
                   "CREATE RULE jobs_upd AS ON UPDATE TO jobs DO INSTEAD\n"
                   "  UPDATE _private_jobs SET attempts = NEW.attempts WHERE id = OLD.id;\n",
        "4_d.sql": "UPDATE jobs SET attempts = attempts + 1;\n",
    },
    {  # a SQL function with a polymorphic argument: its body is not checked when made
        "1_a.sql": "CREATE TABLE tasks (id int PRIMARY KEY, name text);\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO _private_jobs;\n",
        "3_c.sql": "CREATE VIEW jobs AS SELECT j.id, t.name, j.attempts\n"
                   "  FROM _private_jobs j JOIN tasks t ON t.id = j.task_id;\n",
        "4_d.sql": "CREATE FUNCTION bump(x anyelement) RETURNS void LANGUAGE sql\n"
                   "  AS $$UPDATE jobs SET attempts = attempts + 1$$;\n",
    },
])
def test_a_write_through_a_view_postgres_can_write_raises_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        files: dict[str, str]) -> None:
    """Issue 12, from a review of the rule above: a view with a subquery (in its select
    list or its WHERE) is still writable, so is a join view with a `DO INSTEAD` rule,
    and a SQL function taking a polymorphic argument is only parsed when it is made.
    Each history applies in filename order and `--check` passes (in the first draft,
    any view reading two relations counted as not writable, and each was an alarm)."""
    d = migration_dir(tmp_path, files)
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(order)
    assert pg_apply(pg_url, d, order) == []


_FREED_BY_A_RENAME = {  # graphile-worker: `jobs` made, remade, renamed away, a view
    "make": "CREATE TABLE tasks (id int PRIMARY KEY, name text);\n"
            "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n",
    "remake": "ALTER TABLE jobs RENAME TO jobs_old;\n"
              "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int,\n"
              "  locked_at timestamptz);\n"
              "DROP TABLE jobs_old;\n",
    "private": "ALTER TABLE jobs RENAME TO _private_jobs;\n",
    "view": "CREATE VIEW jobs AS SELECT j.id, t.name, j.attempts, j.locked_at\n"
            "  FROM _private_jobs j JOIN tasks t ON t.id = j.task_id;\n",
}


def test_a_column_read_through_a_rename_tells_which_definition_the_rename_removes(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (from the rules for graphile-worker): `ALTER TABLE jobs RENAME TO
    _private_jobs` in a file making no definition, and a view reading
    `_private_jobs.locked_at`, a column only the second `jobs` was made with: that file
    renames the second table away, so it runs after the file remaking `jobs`. Before,
    nothing told which definition the rename removed, and a naming putting it first
    ran it before the remake ("relation "jobs" does not exist")."""
    _every_order_gives(tmp_path, _FREED_BY_A_RENAME, ["make", "remake", "private", "view"],
                       lambda d, order: pg_apply(pg_url, d, order))


@pytest.mark.parametrize("files", [
    {  # the index kept on the renamed table, dropped before that table is
        "1_a.sql": "CREATE TABLE jobs (id int PRIMARY KEY, n int);\n"
                   "CREATE INDEX jobs_n ON jobs (n);\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO jobs_old;\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, n int, m int);\n",
        "3_c.sql": "DROP INDEX jobs_n;\n",
        "4_d.sql": "INSERT INTO jobs SELECT id, n, 0 FROM jobs_old;\nDROP TABLE jobs_old;\n",
    },
    {  # the same with the name PostgreSQL gave the index
        "1_a.sql": "CREATE TABLE jobs (id int PRIMARY KEY, n int);\n"
                   "CREATE INDEX ON jobs (n);\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO jobs_old;\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, n int, m int);\n",
        "3_c.sql": "DROP INDEX jobs_n_idx;\n",
        "4_d.sql": "DROP TABLE jobs_old;\n",
    },
    {  # renamed away for good, a view made over the name
        "1_a.sql": "CREATE TABLE tasks (id int PRIMARY KEY, name text);\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n"
                   "CREATE INDEX jobs_task ON jobs (task_id);\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO _private_jobs;\n"
                   "CREATE VIEW jobs AS SELECT j.id, t.name, j.attempts\n"
                   "  FROM _private_jobs j JOIN tasks t ON t.id = j.task_id;\n",
        "3_c.sql": "DROP INDEX jobs_task;\n"
                   "CREATE INDEX private_jobs_task ON _private_jobs (task_id);\n",
    },
    {  # a function taking the first table's rows: another overload after the rename
        "1_a.sql": "CREATE TABLE jobs (id int PRIMARY KEY);\n"
                   "CREATE FUNCTION f(j jobs) RETURNS int LANGUAGE sql AS $$SELECT j.id$$;\n",
        "2_b.sql": "ALTER TABLE jobs RENAME TO jobs_old;\n"
                   "CREATE TABLE jobs (id int PRIMARY KEY, n int);\n",
        "3_c.sql": "CREATE OR REPLACE FUNCTION f(j jobs) RETURNS int LANGUAGE sql\n"
                   "  AS $$SELECT j.id + j.n$$;\n",
    },
])
def test_an_index_or_a_row_type_kept_through_a_rename_raises_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        files: dict[str, str]) -> None:
    """Issue 12, from a review of the rules above: an index goes with its table when
    the table is renamed away, so a file dropping it after the rename (before the
    renamed table's drop) means no definition of the old name; and a function taking a
    table's rows as an argument is another overload once the name means another table.
    Each history applies in filename order; before the mend, `--check` wanted the file
    moved (and the index history reported a cycle)."""
    d = migration_dir(tmp_path, files)
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(order)
    assert pg_apply(pg_url, d, order) == []


_BEFORE_THE_VERSIONS = {
    "a": "DROP FUNCTION IF EXISTS f;\n"
         "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql AS $$SELECT 1$$;\n",
    "b": "DROP FUNCTION f;\n",
    "c": "CREATE FUNCTION f(a int, b int) RETURNS int LANGUAGE sql AS $$SELECT 1$$;\n",
    "d": "DROP FUNCTION f(int, int);\n"
         "CREATE FUNCTION f(a int, b int, c int) RETURNS int LANGUAGE sql AS $$SELECT 1$$;\n",
}


@pytest.mark.parametrize("names", ["abdc", "badc", "bacd"])
def test_a_drop_by_name_before_a_repeatable_first_version_stays_there(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], names: str) -> None:
    """Issue 12, from the review: `DROP FUNCTION IF EXISTS f; CREATE FUNCTION f(int)`
    is a first version too (the drop only makes the file repeatable), so `f(int, int)`
    is not the one first version and `DROP FUNCTION f` is not put after the versions
    chained from it ("function name "f" is not unique"); these namings applied before
    the chain rule, and do again."""
    d = migration_dir(tmp_path, {f"{i}_{k}.sql": _BEFORE_THE_VERSIONS[k]
                                 for i, k in enumerate(names, 1)})
    _, order = plan_of(d)
    assert pg_apply(pg_url, d, order) == []


_REPLACED_BEFORE_RENAME = {  # graphile-worker: add_jobs() returns `jobs` rows, then not
    "make": "CREATE TABLE jobs (id int PRIMARY KEY, n int);\n"
            "CREATE FUNCTION take() RETURNS SETOF jobs LANGUAGE plpgsql\n"
            "  AS $$BEGIN RETURN QUERY SELECT * FROM jobs; END$$;\n",
    "tweak": "CREATE OR REPLACE FUNCTION take() RETURNS SETOF jobs LANGUAGE plpgsql\n"
             "  AS $$BEGIN RETURN QUERY SELECT * FROM jobs LIMIT 10; END$$;\n",
    "private": "ALTER TABLE jobs RENAME TO _private_jobs;\n"
               "DROP FUNCTION take;\n"
               "CREATE FUNCTION take() RETURNS SETOF _private_jobs LANGUAGE plpgsql\n"
               "  AS $$BEGIN RETURN QUERY SELECT * FROM _private_jobs; END$$;\n",
    "view": "CREATE VIEW jobs AS SELECT id, n FROM _private_jobs;\n",
}


def test_a_replaced_function_returns_rows_of_the_table_its_first_definition_named(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (scrambled graphile-worker, seeds 3, 11 and 12): `CREATE OR REPLACE
    FUNCTION take() RETURNS SETOF jobs` cannot change the return type, so it replaces
    the one plain definition naming `jobs` rows (made with the first `jobs`), not the
    one returning `_private_jobs` made after the rename ("cannot change return type of
    existing function"): it means the table that definition meant, whatever the names."""
    _every_naming_keeps(tmp_path, _REPLACED_BEFORE_RENAME, ["make", "tweak", "private"],
                        ("view", "private", "tweak", "make"),
                        lambda d, o: pg_apply(pg_url, d, o))


_SECOND_REVIEW = {  # (name → files in filename order)
    # a row type read only in the body: the function returns int
    "e13": [
        'CREATE TABLE jobs (id int);\n'
        'CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT\n'
        '  (NULL::jobs).id$$;\n',
        'ALTER TABLE jobs RENAME TO jobs_old;\n'
        'CREATE TABLE jobs (id int, n int);\n',
        'CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS $$SELECT\n'
        '  (NULL::jobs).id$$;\n',
    ],
    # a row type read only in an argument's default
    "e19": [
        'CREATE TABLE jobs (id int);\n'
        'CREATE FUNCTION f(x int DEFAULT (NULL::jobs).id) RETURNS int LANGUAGE\n'
        '  sql AS $$SELECT x$$;\n',
        'ALTER TABLE jobs RENAME TO jobs_old;\n'
        'CREATE TABLE jobs (id int, n int);\n',
        'CREATE OR REPLACE FUNCTION f(x int DEFAULT (NULL::jobs).id) RETURNS\n'
        '  int LANGUAGE sql AS $$SELECT x$$;\n',
    ],
    # the replacement before the file that drops the function and the table and makes both again
    "e21": [
        'CREATE TABLE jobs (id int);\n',
        'CREATE OR REPLACE FUNCTION f() RETURNS SETOF jobs LANGUAGE sql AS\n'
        '  $$SELECT * FROM jobs$$;\n',
        'DROP FUNCTION f();\n'
        'DROP TABLE jobs;\n'
        'CREATE TABLE jobs (id int, n int);\n'
        'CREATE FUNCTION f() RETURNS SETOF jobs LANGUAGE sql AS $$SELECT * FROM\n'
        '  jobs WHERE n > 0$$;\n',
    ],
    # check_function_bodies off through set_config(): the body is not checked
    "a16": [
        'CREATE TABLE tasks (id int PRIMARY KEY, name text);\n'
        'CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n',
        'ALTER TABLE jobs RENAME TO _private_jobs;\n',
        'CREATE VIEW jobs AS SELECT j.id, j.task_id, j.attempts FROM\n'
        '  _private_jobs j JOIN tasks t ON t.id = j.task_id;\n',
        "SELECT pg_catalog.set_config('check_function_bodies', 'false', false);\n"
        'CREATE FUNCTION bump() RETURNS void LANGUAGE sql AS $$UPDATE jobs SET\n'
        '  attempts = attempts + 1$$;\n',
    ],
    # SET check_function_bodies = 0 (a number)
    "a23": [
        'CREATE TABLE tasks (id int PRIMARY KEY, name text);\n'
        'CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n',
        'ALTER TABLE jobs RENAME TO _private_jobs;\n',
        'CREATE VIEW jobs AS SELECT j.id, j.task_id, j.attempts FROM\n'
        '  _private_jobs j JOIN tasks t ON t.id = j.task_id;\n',
        'SET check_function_bodies = 0;\n'
        'CREATE FUNCTION bump() RETURNS void LANGUAGE sql AS $$UPDATE jobs SET\n'
        '  attempts = attempts + 1$$;\n',
    ],
    # a DO block's EXECUTE may make a DO INSTEAD rule the analysis cannot read
    "a26": [
        'CREATE TABLE tasks (id int PRIMARY KEY, name text);\n'
        'CREATE TABLE jobs (id int PRIMARY KEY, task_id int, attempts int);\n',
        'ALTER TABLE jobs RENAME TO _private_jobs;\n',
        'CREATE VIEW jobs AS SELECT j.id, j.task_id, j.attempts FROM\n'
        '  _private_jobs j JOIN tasks t ON t.id = j.task_id;\n'
        "DO $d$BEGIN EXECUTE 'CREATE RULE r AS ON UPDATE TO jobs DO INSTEAD\n"
        "  UPDATE _private_jobs SET attempts = NEW.attempts WHERE id = OLD.id';\n"
        'END$d$;\n',
        'UPDATE jobs SET attempts = attempts + 1;\n',
    ],
}


@pytest.mark.parametrize("name", sorted(_SECOND_REVIEW))
def test_the_second_review_s_intact_histories_raise_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    """Issue 12, from a second review of the rules above: each history applies in
    filename order and `--check` passes. Only a function's return type ties a `CREATE
    OR REPLACE` to a table definition (not a row type in its body or a default), and
    not when the file making the function plainly drops it first; `SET
    check_function_bodies = 0` and `set_config('check_function_bodies', 'false', …)`
    leave SQL bodies unchecked; and a DO block running `EXECUTE` may make a rule that
    makes a view writable. Each was an alarm in the reviewed draft."""
    files = _SECOND_REVIEW[name]
    d = migration_dir(tmp_path, {f"{i:03d}_f{i}.sql": text for i, text in enumerate(files, 1)})
    plan, order = plan_of(d)
    # (the DO block's EXECUTE is a warning, CAL010: not analysed)
    assert plan.safe and not plan.moves and order == sorted(order)
    assert [p.code for p in plan.problems if p.severity == "error"] == []
    assert pg_apply(pg_url, d, order) == []


def _prisma_removal(labels: str, kept: str) -> str:
    """A Prisma migration removing ``labels`` from the enum "Step" (its warning, then the
    rebuild keeping ``kept``)."""
    return ("/*\n  Warnings:\n\n"
            f"  - The values [{labels}] on the enum `Step` will be removed. If these variants"
            " are still used in the database, this will fail.\n\n*/\n"
            "-- AlterEnum\nBEGIN;\n"
            f"CREATE TYPE \"Step_new\" AS ENUM ({kept});\n"
            'ALTER TABLE "S" ALTER COLUMN "type" TYPE "Step_new"\n'
            '  USING ("type"::text::"Step_new");\n'
            'ALTER TYPE "Step" RENAME TO "Step_old";\n'
            'ALTER TYPE "Step_new" RENAME TO "Step";\n'
            'DROP TYPE "Step_old";\nCOMMIT;\n')


_STEP = ("CREATE TYPE \"Step\" AS ENUM ('A', 'B');\n"
         'CREATE TABLE "S" (id int, "type" "Step" NOT NULL);\n')


def test_a_label_added_after_a_prisma_rebuild_is_added_to_the_rebuilt_enum(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (trigger.dev, injected at seed 3): a Prisma rebuild removing `B` from
    "Step" renamed to sort after the file adding `C`. PostgreSQL applies that order too,
    but the rebuild then silently drops `C` (its warning names only `B`): `--check`
    names the adding file, which runs after the rebuild. Before, nothing was named."""
    d = migration_dir(tmp_path, {"1_make.sql": _STEP,
                                 "3_add_c.sql": "ALTER TYPE \"Step\" ADD VALUE 'C';\n",
                                 "4_remove_b.sql": _prisma_removal("B", "'A'")})
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "3_add_c.sql" and "4_remove_b.sql" in problem.message
    assert order == ["1_make.sql", "4_remove_b.sql", "3_add_c.sql"]
    assert pg_apply(pg_url, d, order) == []
    # named as Prisma made it, the history is in order
    (d / "4_remove_b.sql").rename(d / "2_remove_b.sql")
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(order)


_PRISMA_NO_ALARM = {
    # a hand-written rebuild says nothing of what it removes: the rule does not apply
    "no warning": {"1_make.sql": _STEP,
                   "2_add_c.sql": "ALTER TYPE \"Step\" ADD VALUE 'C';\n",
                   "3_remove.sql": _prisma_removal("B", "'A'").split("*/\n", 1)[1]},
    # `C` added, removed (named in a warning), added again
    "added again": {"1_make.sql": _STEP,
                    "2_add_c.sql": "ALTER TYPE \"Step\" ADD VALUE 'C';\n",
                    "3_remove_c.sql": _prisma_removal("C", "'A', 'B'"),
                    "4_add_c.sql": "ALTER TYPE \"Step\" ADD VALUE 'C';\n",
                    "5_remove_b.sql": _prisma_removal("B", "'A', 'C'")},
    # a hand-written rebuild (no warning) between them drops `C` unnamed (the review)
    "hand rebuild between": {"1_make.sql": _STEP,
                             "2_add_c.sql": "ALTER TYPE \"Step\" ADD VALUE 'C';\n",
                             "3_hand.sql": _prisma_removal("C", "'A', 'B'").split("*/\n", 1)[1],
                             "4_remove_b.sql": _prisma_removal("B", "'A'")},
    # the type dropped outright between the file adding `C` and the rebuild
    "dropped between": {"1_make.sql": _STEP,
                        "2_add_c.sql": "ALTER TYPE \"Step\" ADD VALUE 'C';\n",
                        "3_again.sql": 'DROP TABLE "S";\nDROP TYPE "Step";\n' + _STEP,
                        "4_remove_b.sql": _prisma_removal("B", "'A'")},
}


@pytest.mark.parametrize("name", sorted(_PRISMA_NO_ALARM))
def test_a_prisma_rebuild_raises_no_alarm_where_its_warning_cannot_tell(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    files = _PRISMA_NO_ALARM[name]
    d = migration_dir(tmp_path, files)
    assert pg_apply(pg_url, d, sorted(files)) == []
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(files)


def test_prisma_rebuilds_of_one_enum_keep_their_order_under_every_naming(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (trigger.dev, scrambled at seed 10): `B` removed, `C` added, then `A`
    removed by a rebuild listing `C`. The second rebuild lists a label the first neither
    lists nor names as removed, so it comes after the first (it renames the first one's
    type away), whatever the files are called; before, a naming putting the first
    rebuild last bound it to the second's type, and the plan ran it last."""
    files = {"make": _STEP, "remove_b": _prisma_removal("B", "'A'"),
             "add_c": "ALTER TYPE \"Step\" ADD VALUE 'C';\n",
             "remove_a": _prisma_removal("A", "'C'")}
    _every_naming_keeps(tmp_path, files, ["make", "remove_b", "add_c", "remove_a"],
                        ("remove_a", "add_c", "make", "remove_b"),
                        lambda d, o: pg_apply(pg_url, d, o))


_CASCADE = {
    "make": "CREATE TABLE job (id int PRIMARY KEY);\nCREATE TABLE trig (id int, job_id int);\n"
            "ALTER TABLE trig ADD CONSTRAINT trig_job_fkey FOREIGN KEY (job_id)\n"
            "  REFERENCES job (id);\n",
    "unlink": "ALTER TABLE trig DROP CONSTRAINT trig_job_fkey;\n",
    "cleanup": "DROP TABLE IF EXISTS job CASCADE;\n",
}


def test_a_foreign_key_dropped_by_name_runs_before_the_cascade_dropping_its_table(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (trigger.dev, scrambled at seeds 0 and 2): a clean-up written years later
    (`DROP TABLE IF EXISTS "Job" CASCADE`) placed before the file dropping the foreign
    key `"JobTrigger_jobId_fkey"` over "Job", which then failed ("constraint … does not
    exist"): the cascade takes the key with the table, so the file dropping the key by
    name runs first, whatever the files are called."""
    _every_naming_keeps(tmp_path, _CASCADE, ["make", "unlink", "cleanup"],
                        ("cleanup", "unlink", "make"), lambda d, o: pg_apply(pg_url, d, o))


_CASCADE_NO_ALARM = {
    # the table and the key made again after the cascade: the drop may be of either
    "made again": {"1_make.sql": _CASCADE["make"], "2_unlink.sql": _CASCADE["unlink"],
                   "3_cleanup.sql": "DROP TABLE job CASCADE;\n",
                   "4_again.sql": "CREATE TABLE job (id int PRIMARY KEY);\n"
                                  "ALTER TABLE trig ADD CONSTRAINT trig_job_fkey\n"
                                  "  FOREIGN KEY (job_id) REFERENCES job (id);\n",
                   "5_unlink.sql": _CASCADE["unlink"]},
    # two keys in one CREATE TABLE: the cascade takes the other one (the review)
    "two keys": {"1_make.sql": "CREATE TABLE job (id int PRIMARY KEY);\n"
                               "CREATE TABLE users (id int PRIMARY KEY);\n"
                               "CREATE TABLE trig (\n  id int, job_id int, user_id int,\n"
                               "  CONSTRAINT trig_job_fkey FOREIGN KEY (job_id)\n"
                               "    REFERENCES job (id),\n"
                               "  CONSTRAINT trig_user_fkey FOREIGN KEY (user_id)\n"
                               "    REFERENCES users (id));\n",
                 "2_drop_users.sql": "DROP TABLE users CASCADE;\n",
                 "3_unlink.sql": _CASCADE["unlink"]},
    # the table renamed away (the key follows it) and made again: the cascade drops
    # the new one (the review)
    "renamed away": {"1_make.sql": _CASCADE["make"],
                     "2_rename.sql": "ALTER TABLE job RENAME TO job_old;\n"
                                     "CREATE TABLE job (id int PRIMARY KEY, v int);\n",
                     "3_cleanup.sql": "DROP TABLE job CASCADE;\n",
                     "4_unlink.sql": _CASCADE["unlink"]},
    # the cascade drops an earlier definition than the one the key is made over
    "earlier definition": {"1_job.sql": "CREATE TABLE job (id int PRIMARY KEY);\n",
                           "2_cleanup.sql": "DROP TABLE job CASCADE;\n",
                           "3_make.sql": _CASCADE["make"], "4_unlink.sql": _CASCADE["unlink"]},
}


@pytest.mark.parametrize("name", sorted(_CASCADE_NO_ALARM))
def test_a_cascade_of_another_definition_raises_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    files = _CASCADE_NO_ALARM[name]
    d = migration_dir(tmp_path, files)
    assert pg_apply(pg_url, d, sorted(files)) == []
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(files)


def _fk_block(handler: str) -> str:
    """drizzle's foreign key: added in a DO block whose handler is ``handler``."""
    return ('DO $$ BEGIN\n ALTER TABLE "slack" ADD CONSTRAINT "slack_org_fk" FOREIGN KEY ("org")'
            ' REFERENCES "public"."organization"("id");\n'
            f"EXCEPTION\n WHEN {handler} THEN null;\nEND $$;\n")


_SLACK = 'CREATE TABLE "slack" ("org" text NOT NULL);\n'
_ORG = 'CREATE TABLE "organization" ("id" text PRIMARY KEY);\n'


def test_a_do_block_catching_only_duplicates_still_needs_what_it_uses(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (a drizzle history, inkeep's runtime schema, scrambled): every foreign key
    is added in `DO $$ BEGIN … EXCEPTION WHEN duplicate_object THEN null; END $$`. That
    handler catches an existing constraint, not a missing table, so the table the key
    references is needed when the block runs. Before, every use in a block with any
    handler was weak: `--check` passed a history PostgreSQL refuses
    ("relation "public.organization" does not exist")."""
    d = migration_dir(tmp_path, {"1_slack.sql": _SLACK + _fk_block("duplicate_object"),
                                 "2_org.sql": _ORG})
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "1_slack.sql" and "2_org.sql" in problem.message
    assert order == ["2_org.sql", "1_slack.sql"]
    assert pg_apply(pg_url, d, order) == []


_HANDLED = {
    # a handler catching any error: the block may do nothing, and the file applies
    "others": {"1_slack.sql": _SLACK + _fk_block("others"), "2_org.sql": _ORG},
    # the same key added by two files: the second block finds it and does nothing
    "twice": {"1_org.sql": _ORG, "2_slack.sql": _SLACK + _fk_block("duplicate_object"),
              "3_again.sql": _fk_block("duplicate_object")},
}


@pytest.mark.parametrize("name", sorted(_HANDLED))
def test_a_do_block_whose_handler_covers_the_failure_raises_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    files = _HANDLED[name]
    d = migration_dir(tmp_path, files)
    assert pg_apply(pg_url, d, sorted(files)) == []
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(files)


_GUARDED_TOO = {
    "base": 'CREATE TABLE "rel" ("id" text PRIMARY KEY);\n',
    "guard": "DO $$ BEGIN\n  IF EXISTS (SELECT 1 FROM information_schema.tables\n"
             "    WHERE table_name = 'rel')\n"
             "  AND NOT EXISTS (SELECT 1 FROM information_schema.columns\n"
             "    WHERE table_name = 'rel' AND column_name = 'policies') THEN\n"
             '    ALTER TABLE "rel" ADD COLUMN "policies" jsonb;\n  END IF;\nEND $$;\n',
    "add": 'ALTER TABLE "rel" ADD COLUMN "policies" jsonb;\n',
    "drop": 'DROP TABLE "rel" CASCADE;\n',
}


@pytest.mark.parametrize("names", [("add", "guard", "drop", "base"),
                                   ("guard", "drop", "add", "base"),
                                   ("drop", "guard", "add", "base")])
def test_a_plain_creator_runs_before_the_guarded_ones_in_a_misordered_history(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        names: tuple[str, ...]) -> None:
    """Issue 12 (a drizzle history, inkeep's runtime schema, scrambled at seed 1): a
    column added plainly by one file and, only when missing, by a DO block in another
    (`IF NOT EXISTS (… information_schema.columns …) THEN ALTER TABLE … ADD COLUMN`).
    The plan ran the guarded one first, and the plain one failed ("column … already
    exists"), with 23 files after it. In a misordered history the plain creator now
    comes first (the table's later drop removes nothing between them)."""
    (tmp_path / "scrambled").mkdir()
    d = migration_dir(tmp_path / "scrambled", {f"{i}_{k}.sql": _GUARDED_TOO[k]
                                               for i, k in enumerate(names, 1)})
    _, order = plan_of(d)
    keys = [p.split("_", 1)[1][:-4] for p in order]
    assert keys.index("base") < keys.index("add") < keys.index("guard")
    assert keys.index("add") < keys.index("drop")
    assert pg_apply(pg_url, d, order) == []
    # named as the history was written, nothing moves
    (tmp_path / "intact").mkdir()
    intact = migration_dir(tmp_path / "intact", {
        f"{i}_{k}.sql": _GUARDED_TOO[k] for i, k in enumerate(("base", "add", "guard", "drop"),
                                                              1)})
    plan, order = plan_of(intact)
    assert plan.safe and plan.problems == [] and order == sorted(order)


def test_analyze_needs_its_table_and_columns(tmp_path: Path, pg_url: str,
                                            pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (matrix-synapse, scrambled at seed 0): `ANALYZE event_auth_chain_links`
    named no table, so the plan ran it before the file making the table ("relation …
    does not exist"). ANALYZE (and VACUUM, outside a transaction) needs its tables and
    the columns it lists."""
    d = migration_dir(tmp_path, {"1_analyze.sql": "ANALYZE links (chain_id);\n",
                                 "2_make.sql": "CREATE TABLE links (chain_id bigint);\n"})
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "1_analyze.sql" and "2_make.sql" in problem.message
    assert order == ["2_make.sql", "1_analyze.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_a_column_a_type_cascade_removed_keeps_its_plain_creator_after_the_drop(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """The review of the plain-creator rule: `DROP TYPE mood CASCADE` drops the column
    `t.m` a guarded `ADD COLUMN IF NOT EXISTS` made, so the plain `ADD COLUMN m` after
    it is no creator to run first; in a misordered history (the view needing a later
    table) the plan still applies. Its first draft ran the plain creator first ("type
    "mood" already exists")."""
    d = migration_dir(tmp_path, {
        "001_t.sql": "CREATE TYPE mood AS ENUM ('a');\nCREATE TABLE t (id int);\n",
        "002_col.sql": "ALTER TABLE t ADD COLUMN IF NOT EXISTS m mood;\n",
        "003_drop.sql": "DROP TYPE mood CASCADE;\n",
        "004_again.sql": "CREATE TYPE mood AS ENUM ('a', 'b');\nALTER TABLE t ADD COLUMN m mood;\n",
        "008_report_view.sql": "CREATE VIEW report AS SELECT id FROM widgets;\n",
        "009_widgets.sql": "CREATE TABLE widgets (id int);\n"})
    _, order = plan_of(d)
    assert [p for p in order if p < "008"] == ["001_t.sql", "002_col.sql", "003_drop.sql",
                                               "004_again.sql"]
    assert pg_apply(pg_url, d, order) == []


_TABLES = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE m (p int);\n"


def test_a_branch_run_when_a_key_is_missing_needs_the_tables_it_alters(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (litellm's Prisma history, injected at seeds 12 and 4): each foreign key
    is added in `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname =
    '…') THEN ALTER TABLE … ADD CONSTRAINT … END IF; END $$`. The branch runs wherever
    the key is missing — on a database without the tables too — so its uses are needed
    (those of a name the condition mentions excepted). Before, every use in an IF branch
    was weak: `--check` passed a history PostgreSQL refuses."""
    d = migration_dir(tmp_path, {
        "1_fk.sql": "DO $$ BEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint\n"
                    "                 WHERE conname = 'm_p_fkey') THEN\n"
                    "    ALTER TABLE m ADD CONSTRAINT m_p_fkey FOREIGN KEY (p) REFERENCES p (id);\n"
                    "  END IF;\nEND $$;\n",
        "2_tables.sql": _TABLES})
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "1_fk.sql" and "2_tables.sql" in problem.message
    assert order == ["2_tables.sql", "1_fk.sql"]
    assert pg_apply(pg_url, d, order) == []


@pytest.mark.parametrize("condition", [
    "EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'm')",
    "NOT EXISTS (SELECT 1 FROM information_schema.columns\n"
    "    WHERE table_name = 'm' AND column_name = 'q') AND to_regclass('m') IS NOT NULL",
])
def test_a_branch_that_checks_its_table_raises_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], condition: str) -> None:
    files = {"1_col.sql": f"DO $$ BEGIN\n  IF {condition} THEN\n"
                          "    ALTER TABLE m ADD COLUMN q int;\n  END IF;\nEND $$;\n",
             "2_tables.sql": _TABLES}
    d = migration_dir(tmp_path, files)
    assert pg_apply(pg_url, d, sorted(files)) == []
    plan, order = plan_of(d)
    assert plan.safe and plan.problems == [] and order == sorted(files)


def test_a_foreign_key_dropped_by_name_runs_before_the_drop_of_its_column(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (webstudio's Prisma history, injected at seed 1): `DROP COLUMN "userId"`
    takes the foreign key made over that column with it, so a file dropping the key by
    name must run first ("constraint "Project_userId_fkey" … does not exist"). Before,
    `--check` passed the misordered history."""
    d = migration_dir(tmp_path, {
        "1_make.sql": 'CREATE TABLE "User" (id text PRIMARY KEY);\n'
                      'CREATE TABLE "Project" (id text, "userId" text);\n'
                      'ALTER TABLE "Project" ADD CONSTRAINT "Project_userId_fkey"\n'
                      '  FOREIGN KEY ("userId") REFERENCES "User" (id);\n',
        "2_remove_userid.sql": 'ALTER TABLE "Project" DROP COLUMN "userId";\n',
        "3_teams.sql": 'ALTER TABLE "Project" DROP CONSTRAINT "Project_userId_fkey";\n'})
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "2_remove_userid.sql" and "3_teams.sql" in problem.message
    assert order == ["1_make.sql", "3_teams.sql", "2_remove_userid.sql"]
    assert pg_apply(pg_url, d, order) == []


_TOGGLED = {  # webstudio: Asset.size made with the table, dropped, added again, dropped
    "make": 'CREATE TABLE "Asset" (id text, "type" text, size float8);\n',
    "remove_size": 'ALTER TABLE "Asset" DROP COLUMN size;\n',
    "more_info": 'ALTER TABLE "Asset" DROP COLUMN "type",\n'
                 '  ADD COLUMN format text, ADD COLUMN size int;\n',
    "cleanup": 'ALTER TABLE "Asset" DROP COLUMN format, DROP COLUMN size;\n',
}


def test_a_column_added_and_dropped_again_and_again_alternates(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (webstudio's Prisma history, scrambled): a column made with its table,
    dropped, added again and dropped again (four events; the rule for three stood
    aside), so the plan ran the second adder before the first drop ("column "size" …
    already exists"). The events now alternate: every naming plans the working order,
    and named as written nothing moves."""
    _every_order_gives(tmp_path, _TOGGLED, ["make", "remove_size", "more_info", "cleanup"],
                       lambda d, order: pg_apply(pg_url, d, order))


_ADD = ('ALTER TABLE "User" ADD COLUMN email text;\n'
        'CREATE UNIQUE INDEX "User_email_key" ON "User" (email);\n')
_DROP = 'DROP INDEX "User_email_key";\nALTER TABLE "User" DROP COLUMN email;\n'


@pytest.mark.parametrize("names", ["0ababa", "0aaabb", "0bbaaa", "aaa0bb", "bab0aa"])
def test_byte_identical_adders_and_drops_alternate(tmp_path: Path, pg_url: str,
                                                   pg_apply: Callable[..., Any],
                                                   names: str) -> None:
    """Issue 12 (webstudio: `User.email` added, dropped, added, dropped, added in
    byte-identical files): whatever the names, the plan alternates adders and drops,
    adder first, and applies."""
    sql = {"0": 'CREATE TABLE "User" (id text);\n', "a": _ADD, "b": _DROP}
    d = migration_dir(tmp_path, {f"{i}_{k}.sql": sql[k] for i, k in enumerate(names, 1)})
    _, order = plan_of(d)
    assert pg_apply(pg_url, d, order) == []
    kinds = "".join(names[int(p.split("_")[0]) - 1] for p in order)
    assert kinds == "0ababa"


_DASHBOARD = {  # webstudio: a view made, replaced, and made again by later files
    "dashboard": 'CREATE VIEW "DashboardProject" AS SELECT * FROM "Project";\n',
    "is_prod": 'CREATE OR REPLACE VIEW "DashboardProject" AS\n'
               '  SELECT *, true AS "isPublished" FROM "Project";\n',
    "is_deleted": 'DROP VIEW IF EXISTS "DashboardProject";\n'
                  'CREATE VIEW "DashboardProject" AS\n'
                  '  SELECT *, false AS "isPublished" FROM "Project";\n',
}
_PROJECT = 'CREATE TABLE "Project" (id text);\n'


@pytest.mark.parametrize(("before", "applied"), [
    (["dashboard", "is_prod"], ("is_prod", "is_deleted", "dashboard")),
    (["dashboard", "is_deleted"], ("is_deleted", "dashboard", "is_prod"))])
def test_a_plain_create_view_runs_before_its_replacements(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], before: list[str],
        applied: tuple[str, ...]) -> None:
    """Issue 12 (webstudio scrambled): `CREATE OR REPLACE VIEW v` sorted before the one
    plain `CREATE VIEW v`, which then failed ("relation … already exists"). In a
    misordered history (here the table's file sorts last) the plain definition comes
    first, as for a function; a file that drops the view before making it again runs
    anywhere after."""
    _every_naming_keeps(tmp_path, _DASHBOARD, before, applied,
                        lambda d, order: pg_apply(pg_url, d, order),
                        fixed={"9_project.sql": _PROJECT})


_HELD = {  # webstudio: views over a column that is dropped and added again
    "remove_userid": 'ALTER TABLE "Project" DROP COLUMN "userId";\n',
    "readd": 'ALTER TABLE "Project" ADD COLUMN "userId" text;\n',
    "with_domain": 'CREATE VIEW "ProjectWithDomain" AS SELECT p.id, p."userId"\n'
                   '  FROM "Project" p;\n',
}


def test_a_view_runs_after_the_drops_of_the_columns_it_reads(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (webstudio scrambled, and a missed alarm): a view naming a column made
    with its table, dropped and added again was bound to the first column, so it ran
    before the drop, which PostgreSQL refuses ("cannot drop column … other objects
    depend on it"). A view is never dropped here, so it holds the column from its
    making on: in a misordered history (the table's file sorts last) it runs after every
    drop and adder of the column."""
    _every_naming_keeps(tmp_path, _HELD, ["remove_userid", "readd", "with_domain"],
                        ("with_domain", "readd", "remove_userid"),
                        lambda d, order: pg_apply(pg_url, d, order),
                        fixed={"9_make.sql": 'CREATE TABLE "Project" (id text, "userId" text);\n'})


_STARRED = {
    "drop_team": 'ALTER TABLE "Project" DROP COLUMN "teamId";\n',
    "dashboard": 'CREATE VIEW "DashboardProject" AS SELECT p.*, 1 AS one FROM "Project" p;\n',
}


def test_a_view_reading_a_table_with_a_star_runs_after_its_column_drops(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (webstudio): `CREATE VIEW v AS SELECT * FROM t` holds every column `t`
    has then; a column `t` was made with and a later file drops must be gone before the
    view is made (in a misordered history: the table's file sorts last)."""
    _every_naming_keeps(tmp_path, _STARRED, ["drop_team", "dashboard"],
                        ("dashboard", "drop_team"),
                        lambda d, order: pg_apply(pg_url, d, order),
                        fixed={"9_make.sql": 'CREATE TABLE "Project" (id text, "teamId" text);\n'})


_KEY_REMADE = {  # webstudio: a foreign key dropped and made again over a dropped column
    "fk": 'ALTER TABLE "Project" ADD CONSTRAINT "Project_userId_fkey"\n'
          '  FOREIGN KEY ("userId") REFERENCES "User" (id);\n',
    "mandatory": 'ALTER TABLE "Project" DROP CONSTRAINT "Project_userId_fkey";\n'
                 'ALTER TABLE "Project" ALTER COLUMN "userId" SET NOT NULL;\n'
                 'ALTER TABLE "Project" ADD CONSTRAINT "Project_userId_fkey"\n'
                 '  FOREIGN KEY ("userId") REFERENCES "User" (id);\n',
    "teams": 'ALTER TABLE "Project" DROP CONSTRAINT "Project_userId_fkey";\n'
             'ALTER TABLE "Project" ADD COLUMN "teamId" text;\n',
    "remove_userid": 'ALTER TABLE "Project" DROP COLUMN "userId";\n',
}


def test_the_users_of_a_remade_key_run_before_the_drop_of_its_column(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (webstudio scrambled): `DROP COLUMN "userId"` takes the foreign key over
    it; the key is dropped and made again by one file and dropped by another, so the
    rule for a key made once stood aside and the plan dropped the column first
    ("constraint … does not exist"). In a misordered history (the tables' file sorts
    last) every file using a definition of the key made before the column's drop runs
    before it."""
    import itertools

    make = {"9_make.sql": 'CREATE TABLE "User" (id text PRIMARY KEY);\n'
                          'CREATE TABLE "Project" (id text, "userId" text);\n'}
    for n, names in enumerate(itertools.permutations(_KEY_REMADE)):
        (tmp_path / str(n)).mkdir()
        d = migration_dir(tmp_path / str(n), {**make, **{
            f"{i}_{k}.sql": _KEY_REMADE[k] for i, k in enumerate(names, 1)}})
        _, order = plan_of(d)
        keys = [p.split("_", 1)[1][:-4] for p in order]
        assert all(keys.index(k) < keys.index("remove_userid")
                   for k in ("fk", "mandatory", "teams")), names
        if names == ("remove_userid", "fk", "mandatory", "teams"):
            assert pg_apply(pg_url, d, order) == []


_COMPOSITE = {  # webstudio: a primary key made composite while a key references it
    "fk": 'ALTER TABLE "Breakpoints" ADD CONSTRAINT "Breakpoints_buildId_fkey"\n'
          '  FOREIGN KEY ("buildId") REFERENCES "Build" (id);\n',
    "drop_fk": 'ALTER TABLE "Breakpoints" DROP CONSTRAINT "Breakpoints_buildId_fkey";\n',
    "composite": 'ALTER TABLE "Build" DROP CONSTRAINT "Build_pkey",\n'
                 '  ADD CONSTRAINT "Build_pkey" PRIMARY KEY (id, "projectId");\n',
}


def test_a_foreign_key_is_removed_before_the_key_it_references_changes(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (webstudio scrambled): a primary key dropped and made again over more
    columns while a foreign key references its old columns ("cannot drop constraint
    Build_pkey … other objects depend on it"). In a misordered history the file
    removing the foreign key runs before the change."""
    _every_naming_keeps(tmp_path, _COMPOSITE, ["fk", "drop_fk", "composite"],
                        ("composite", "drop_fk", "fk"),
                        lambda d, order: pg_apply(pg_url, d, order),
                        fixed={"9_make.sql": 'CREATE TABLE "Build" (id text, "projectId" text,\n'
                                             '  CONSTRAINT "Build_pkey" PRIMARY KEY (id));\n'
                                             'CREATE TABLE "Breakpoints" ("buildId" text);\n'})


_TYPE_GUARDED_TOO = {  # hatchet: an enum made plainly, then again "if missing" twice
    "base": 'CREATE TABLE "Tenant" (id text PRIMARY KEY);\n',
    "plain": 'CREATE TYPE "UIVersion" AS ENUM (\'V0\', \'V1\');\n'
             'ALTER TABLE "Tenant" ADD COLUMN "ui" "UIVersion" NOT NULL DEFAULT \'V0\';\n',
    "again": "DO $$ BEGIN\n"
             "  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'UIVersion') THEN\n"
             '    CREATE TYPE "UIVersion" AS ENUM (\'V0\', \'V1\');\n  END IF;\nEND $$;\n'
             'CREATE TABLE "Member" (id text REFERENCES "Tenant", ui "UIVersion");\n',
}


@pytest.mark.parametrize("names", [("again", "plain"), ("plain", "again")])
def test_a_plain_create_type_runs_before_its_guarded_creators(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        names: tuple[str, ...]) -> None:
    """Issue 12 (hatchet scrambled at seed 10): a type made plainly by one file and, only
    when missing, by a later file's DO block; the plan ran the guarded one first and the
    plain `CREATE TYPE` failed ("type … already exists"). In a misordered history (the
    table's file sorts last) the plain creator of a type now comes first, as a column's
    does."""
    d = migration_dir(tmp_path, {**{f"{i}_{k}.sql": _TYPE_GUARDED_TOO[k]
                                    for i, k in enumerate(names, 1)},
                                 "9_base.sql": _TYPE_GUARDED_TOO["base"]})
    _, order = plan_of(d)
    keys = [p.split("_", 1)[1][:-4] for p in order]
    assert keys == ["base", "plain", "again"]
    assert pg_apply(pg_url, d, order) == []


_VIEW_NO_ALARM = {
    "made in a branch that did not run": {
        "1_make.sql": "CREATE TABLE t (id int, c int);\n",
        "2_view.sql": "DO $$ BEGIN\n  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'nobody_x')"
                      " THEN\n    CREATE VIEW v AS SELECT id, c FROM t;\n  END IF;\nEND $$;\n",
        "3_drop.sql": "ALTER TABLE t DROP COLUMN c;\n"},
    "dropped by its own file first": {
        "1_make.sql": "CREATE TABLE t (id int, c int);\n",
        "2_view.sql": "CREATE VIEW v AS SELECT * FROM t;\n",
        "3_drop.sql": "DROP VIEW v;\nALTER TABLE t DROP COLUMN c;\n"},
    "replaced without the column": {
        "1_make.sql": "CREATE TABLE t (id int, c int);\n",
        "2_view.sql": "CREATE VIEW v AS SELECT id FROM t WHERE c > 0;\n",
        "3_again.sql": "CREATE OR REPLACE VIEW v AS SELECT id FROM t;\n",
        "4_drop.sql": "ALTER TABLE t DROP COLUMN c;\n"},
    "made again after the drop": {
        "1_make.sql": "CREATE TABLE t (id int, c int);\n",
        "2_view.sql": "CREATE VIEW v AS SELECT * FROM t;\n",
        "3_drop.sql": "DROP VIEW v;\nALTER TABLE t DROP COLUMN c;\n"
                      "CREATE VIEW v AS SELECT * FROM t;\n"},
    "a cascade": {
        "1_make.sql": "CREATE TABLE t (id int, c int);\n",
        "2_view.sql": "CREATE VIEW v AS SELECT id, c FROM t;\n",
        "3_drop.sql": "ALTER TABLE t DROP COLUMN c CASCADE;\n"},
}


_VIEW_NO_ALARM.update({
    "dropped by dynamic SQL": {  # (a review's: the rule runs in misordered histories only)
        "1_make.sql": "CREATE TABLE t (id int, c int);\n",
        "2_view.sql": "CREATE VIEW v AS SELECT id, c FROM t;\n",
        "3_gone.sql": "DO $$ BEGIN EXECUTE 'DROP VIEW v'; END $$;\n",
        "4_drop.sql": "ALTER TABLE t DROP COLUMN c;\n",
        "5_again.sql": "ALTER TABLE t ADD COLUMN c int;\n"},
    "an adder that does nothing": {
        "1_make.sql": "CREATE TABLE t (id int);\n",
        "2_add.sql": "ALTER TABLE t DROP COLUMN IF EXISTS c;\nALTER TABLE t ADD COLUMN c int;\n",
        "3_view.sql": "CREATE VIEW v AS SELECT id, c FROM t;\n",
        "4_noop.sql": "ALTER TABLE t ADD COLUMN IF NOT EXISTS c int;\n"},
    "toggled, the middle drop tied": {  # (alternating: drops placed in reading order)
        "1_make.sql": "CREATE TABLE t (id int);\n",
        "2_add.sql": "ALTER TABLE t ADD COLUMN c int;\n",
        "3_drop.sql": "ALTER TABLE t DROP COLUMN c;\n",
        "4_add.sql": "ALTER TABLE t ADD COLUMN c int;\nCREATE TABLE x (id int);\n",
        "5_drop.sql": "ALTER TABLE t DROP COLUMN c;\nCREATE INDEX x_id ON x (id);\n",
        "6_add.sql": "ALTER TABLE t ADD COLUMN c int;\n",
        "7_drop.sql": "ALTER TABLE t DROP COLUMN c;\n"},
    "an index its column's drop took": {
        "1_make.sql": "CREATE TABLE t (id int, c int);\n",
        "2_index.sql": "CREATE INDEX i ON t (c);\n",
        "3_drop.sql": "ALTER TABLE t DROP COLUMN c;\n",
        "4_add.sql": "ALTER TABLE t ADD COLUMN c int;\n",
        "5_index.sql": "CREATE INDEX i ON t (c);\n",
        "6_drop.sql": "DROP INDEX i;\n",
        "7_index.sql": "CREATE INDEX i ON t (c);\n",
        "8_drop.sql": "DROP INDEX i;\n"},
})


@pytest.mark.parametrize("name", sorted(_VIEW_NO_ALARM))
def test_histories_the_view_and_toggle_rules_must_leave_alone_raise_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    """Histories that apply as named, around the view rule (`names/view_columns.py`: a
    view that may not exist, or no longer reads the column, when the column goes) and
    the toggle rule (`names/alternating.py`; two of them from a review, each a false
    alarm of the rules' first drafts): filename order stands."""
    d = migration_dir(tmp_path, _VIEW_NO_ALARM[name])
    plan, order = plan_of(d)
    assert pg_apply(pg_url, d, order) == []
    assert plan.safe and plan.moves == [] and order == sorted(order)
    assert [p.code for p in plan.problems] in ([], ["CAL010"])  # (EXECUTE: a warning)


_KEY_OVER_ANOTHER_COLUMN = {  # a review's: the key made again over another column
    "key": "ALTER TABLE p ADD CONSTRAINT k FOREIGN KEY (a) REFERENCES u (id);\n",
    "moved": "ALTER TABLE p DROP CONSTRAINT k;\n"
             "ALTER TABLE p ADD CONSTRAINT k FOREIGN KEY (b) REFERENCES u (id);\n",
    "drop_a": "ALTER TABLE p DROP COLUMN a;\nCREATE TABLE z (id int);\n",
    "drop_key": "ALTER TABLE p DROP CONSTRAINT k;\nINSERT INTO z VALUES (1);\n",
}


def test_a_key_made_again_over_another_column_is_not_taken_by_the_first_column_s_drop(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """A review of `cascade.key_users_before_column_drops`: the key made again over
    column `b` is not taken by `DROP COLUMN a`, so its last drop need not run before it
    (the first draft forced that, against `z`'s need: a cycle, and a broken plan).
    Misordered only by the tables' file, which sorts last."""
    d = migration_dir(tmp_path, {
        **{f"{i}_{k}.sql": sql for i, (k, sql) in enumerate(_KEY_OVER_ANOTHER_COLUMN.items(), 1)},
        "9_make.sql": "CREATE TABLE u (id int PRIMARY KEY);\n"
                      "CREATE TABLE p (id int, a int, b int);\n"})
    plan, order = plan_of(d)
    assert order == ["9_make.sql", "1_key.sql", "2_moved.sql", "3_drop_a.sql", "4_drop_key.sql"]
    assert not [p for p in plan.problems if p.code == "CAL002"]  # (no cycle)
    assert pg_apply(pg_url, d, order) == []


def test_a_foreign_key_over_a_changed_key_s_new_columns_runs_after_the_change(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """A review of `names/referenced_keys.py`: a foreign key over the new (composite)
    key's columns needs the change ("there is no unique constraint matching given
    keys" before it)."""
    files = {**_COMPOSITE, "new_fk": 'ALTER TABLE "Breakpoints" ADD COLUMN "projectId" text;\n'
             'ALTER TABLE "Breakpoints" ADD CONSTRAINT "Breakpoints_build_fkey"\n'
             '  FOREIGN KEY ("buildId", "projectId") REFERENCES "Build" (id, "projectId");\n'}
    _every_naming_keeps(tmp_path, files, ["fk", "drop_fk", "composite", "new_fk"],
                        ("new_fk", "composite", "drop_fk", "fk"),
                        lambda d, order: pg_apply(pg_url, d, order),
                        fixed={"9_make.sql": 'CREATE TABLE "Build" (id text, "projectId" text,\n'
                                             '  CONSTRAINT "Build_pkey" PRIMARY KEY (id));\n'
                                             'CREATE TABLE "Breakpoints" ("buildId" text);\n'})


_MATVIEW_TO_TABLE = {
    "plain": "CREATE TABLE stats_table AS SELECT * FROM stats;\n"
             "DROP MATERIALIZED VIEW stats;\nALTER TABLE stats_table RENAME TO stats;\n",
    "guarded": "DO $$\nBEGIN\n"
               "  IF EXISTS (SELECT 1 FROM pg_matviews WHERE matviewname = 'stats') THEN\n"
               "    CREATE TABLE stats_table AS SELECT * FROM stats;\n"
               "    DROP MATERIALIZED VIEW stats;\n"
               "    ALTER TABLE stats_table RENAME TO stats;\n  END IF;\nEND $$;\n",
}


@pytest.mark.parametrize("how", sorted(_MATVIEW_TO_TABLE))
def test_adding_a_column_needs_the_table_a_materialized_view_became(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], how: str) -> None:
    """Issue 12 (tensorzero's sqlx history, injected: the file turning a materialized
    view into a table renamed after the file adding a column to it was not named, and
    the plan failed: "… is not a table"). `ALTER TABLE … ADD COLUMN` on a name whose
    definition before it is a view now needs the next definition that is a table."""
    d = migration_dir(tmp_path, {
        "1_make.sql": "CREATE TABLE src (x int);\n"
                      "CREATE MATERIALIZED VIEW stats AS SELECT x FROM src;\n",
        "2_add_column.sql": "ALTER TABLE stats ADD COLUMN IF NOT EXISTS y int;\n",
        "3_convert.sql": _MATVIEW_TO_TABLE[how]})
    plan, order = plan_of(d)
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "2_add_column.sql" and "3_convert.sql" in problem.message
    assert order == ["1_make.sql", "3_convert.sql", "2_add_column.sql"]
    assert pg_apply(pg_url, d, order) == []


_CONVERTED_IF_THERE = ("DO $$\nBEGIN\n"
                       "  IF EXISTS (SELECT 1 FROM pg_matviews WHERE matviewname = 'stats') THEN\n"
                       "    CREATE TABLE stats_table AS SELECT * FROM stats;\n"
                       "    DROP MATERIALIZED VIEW stats;\n"
                       "    ALTER TABLE stats_table RENAME TO stats;\n  END IF;\nEND $$;\n"
                       "CREATE INDEX IF NOT EXISTS stats_x ON stats (x);\n")


def test_a_use_after_a_guarded_rename_still_needs_the_name_made_elsewhere(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (tensorzero scrambled, 83 % at five seeds): a file renames a table into a
    name only if a materialized view is there (a DO block's branch), then indexes the
    name plainly; its own guarded rename counted as the index's provider, so the file
    ran before the materialized view was made ("relation … does not exist"). A use after
    a guarded rename now binds to another file's definition when there is one; with
    none, the file's own rename still answers (no alarm)."""
    d = migration_dir(tmp_path, {"1_source.sql": "CREATE TABLE src (x int);\n",
                                 "2_convert.sql": _CONVERTED_IF_THERE,
                                 "3_view.sql": "CREATE MATERIALIZED VIEW stats AS"
                                               " SELECT x FROM src;\n"})
    _, order = plan_of(d)
    assert order == ["1_source.sql", "3_view.sql", "2_convert.sql"]
    assert pg_apply(pg_url, d, order) == []
    (tmp_path / "alone").mkdir()
    d = migration_dir(tmp_path / "alone", {
        "1_make.sql": "CREATE TABLE old (x int);\n",
        "2_rename.sql": "DO $$ BEGIN\n  IF EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'old')"
                        " THEN\n    ALTER TABLE old RENAME TO new;\n  END IF;\nEND $$;\n"
                        "CREATE INDEX new_x ON new (x);\n"})
    plan, order = plan_of(d)
    assert pg_apply(pg_url, d, order) == []
    assert_intact(plan, order)


_LABEL_REMOVED = {
    "base": "CREATE SCHEMA w;\n"
            "CREATE TYPE public.status AS ENUM ('pending', 'paused', 'cancelled');\n"
            "CREATE TABLE w.runs (id int PRIMARY KEY, status public.status NOT NULL);\n",
    "remove": "UPDATE w.runs SET status = 'cancelled' WHERE status = 'paused';\n"
              "CREATE TYPE public.status_new AS ENUM ('pending', 'cancelled');\n"
              "ALTER TABLE w.runs ALTER COLUMN status TYPE public.status_new"
              " USING status::text::public.status_new;\n"
              "DROP TYPE public.status;\n"
              "ALTER TYPE public.status_new RENAME TO status;\n",
    "recreate": "ALTER TABLE w.runs ALTER COLUMN status SET DATA TYPE text;\n"
                "DROP TYPE public.status;\n"
                "CREATE TYPE public.status AS ENUM ('pending', 'cancelled');\n"
                "ALTER TABLE w.runs ALTER COLUMN status SET DATA TYPE public.status"
                " USING status::public.status;\n",
    "alter": "ALTER TABLE w.runs ADD COLUMN x int;\n",
}


@pytest.mark.parametrize("names", [("base", "remove", "recreate"),
                                   ("base", "recreate", "remove"),
                                   ("alter", "recreate", "base", "remove")])
def test_a_use_of_an_enum_label_runs_before_the_file_that_drops_the_type(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any],
        names: tuple[str, ...]) -> None:
    """Issue 12 (drizzle's workflow history scrambled, 92 % at five seeds): a file uses
    the label `paused` (`WHERE status = 'paused'`) and then rebuilds the enum without
    it; a later file drops the type and makes it again, also without it. The plan ran
    the later file first ("invalid input value for enum status"). A `DROP TYPE` (or a
    rename away) now ends the labels of that definition, a rename into the name brings
    the renamed enum's, and a use of a label waits for a definition that has it and
    runs before that definition's drop. With four files the plan needs two bindings
    mended at once (the type's and the label's), which the rebinding reaches now that
    it goes on while cycles still name bindings it has not banned."""
    d = migration_dir(tmp_path, {f"{i}_{k}.sql": _LABEL_REMOVED[k]
                                 for i, k in enumerate(names, 1)})
    plan, order = plan_of(d)
    keys = [p.split("_", 1)[1][:-4] for p in order]
    assert keys.index("base") < keys.index("remove") < keys.index("recreate")
    assert pg_apply(pg_url, d, order) == []
    if names == ("base", "remove", "recreate"):
        assert plan.safe and plan.moves == [] and order == sorted(order)
    else:
        assert any(p.code == "CAL001" and "remove" in p.message for p in plan.problems)


_LABEL_KEPT = {
    "1_make.sql": "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'meh');\n"
                  "CREATE TABLE person (id int, mood mood);\n",
    "2_prisma.sql": "ALTER TYPE mood RENAME TO mood_old;\n"
                    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n"
                    "ALTER TABLE person ALTER COLUMN mood TYPE mood USING mood::text::mood;\n"
                    "DROP TYPE mood_old;\n",
    "3_use.sql": "UPDATE person SET mood = 'ok' WHERE mood = 'sad';\n",
    "4_renamed_in.sql": "CREATE TYPE mood_new AS ENUM ('sad', 'ok');\n"
                        "ALTER TABLE person ALTER COLUMN mood TYPE mood_new"
                        " USING mood::text::mood_new;\n"
                        "DROP TYPE mood;\nALTER TYPE mood_new RENAME TO mood;\n",
    "5_use.sql": "SELECT 'ok'::mood;\nUPDATE person SET mood = 'sad' WHERE mood = 'ok';\n",
    "6_drizzle.sql": "ALTER TABLE person ALTER COLUMN mood SET DATA TYPE text;\n"
                     "DROP TYPE mood;\nCREATE TYPE mood AS ENUM ('ok', 'sad', 'new');\n"
                     "ALTER TABLE person ALTER COLUMN mood SET DATA TYPE mood"
                     " USING mood::mood;\n",
    "7_use.sql": "UPDATE person SET mood = 'new' WHERE mood = 'ok';\n",
}


def test_labels_a_rebuild_keeps_raise_no_alarm(tmp_path: Path, pg_url: str,
                                               pg_apply: Callable[..., Any]) -> None:
    """The other side of the label rule: after a rebuild that keeps a label (Prisma's
    rename away and `CREATE TYPE`, a new enum renamed into the name, `DROP TYPE` and
    `CREATE TYPE`), a use of it binds to the rebuilt type; an intact history raises no
    alarm."""
    d = migration_dir(tmp_path, _LABEL_KEPT)
    plan, order = plan_of(d)
    assert_intact(plan, order)
    assert pg_apply(pg_url, d, order) == []


_RLS_LOOP = ("DO $$\nDECLARE\n  tables text[] := ARRAY['flow', 'Role'];\n  t text;\nBEGIN\n"
             "  FOREACH t IN ARRAY tables LOOP\n"
             "    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);\n"
             "    EXECUTE format('DROP POLICY IF EXISTS %I ON %I', t || '_tenant', t);\n"
             "    EXECUTE format('CREATE POLICY %I ON %I USING (\"tenantId\" = %L)',\n"
             "                   t || '_tenant', t, 'x');\n"
             "  END LOOP;\nEND $$;\n")


@pytest.mark.parametrize("tables", ["1_tables.sql", "3_tables.sql"])
def test_dynamic_sql_over_a_list_of_names_is_read(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], tables: str) -> None:
    """Issue 12 (a Prisma history scrambled, 98 % at nine seeds): a DO block enabling row
    level security loops over a list of table names and builds each statement with
    `format`; read as opaque dynamic SQL, it ran before the tables existed. `EXECUTE
    format(…)` over the names of an `ARRAY[…]` (inline, or a declared variable's
    default), with constants, the loop variable and `||` as arguments, is now written
    out and read like the block's other statements. Intact, no alarm."""
    d = migration_dir(tmp_path, {tables: 'CREATE TABLE flow ("tenantId" text);\n'
                                         'CREATE TABLE "Role" ("tenantId" text);\n',
                                 "2_rls.sql": _RLS_LOOP})
    plan, order = plan_of(d)
    assert order == [tables, "2_rls.sql"]
    assert pg_apply(pg_url, d, order) == []
    if tables == "1_tables.sql":
        assert plan.safe and plan.moves == []
        assert [p.code for p in plan.problems] == []  # (no CAL010: nothing left unread)
    else:
        (problem,) = [p for p in plan.problems if p.code == "CAL001"]
        assert problem.path == "2_rls.sql" and 'table "flow"' in problem.message


def test_dynamic_sql_the_analysis_cannot_write_out_stays_unread(tmp_path: Path) -> None:
    """The other side: a name read from the catalog, a format with `%1$I`, or a list
    the block assigns after declaring it, is not written out; CAL010 as before, and
    nothing those statements name is needed."""
    d = migration_dir(tmp_path, {
        "1_do.sql": "DO $$ DECLARE r record; BEGIN\n"
                    "  FOR r IN SELECT tablename FROM pg_tables LOOP\n"
                    "    EXECUTE format('ALTER TABLE %I OWNER TO app', r.tablename);\n"
                    "  END LOOP;\n"
                    "  EXECUTE format('ALTER TABLE %1$I ENABLE ROW LEVEL SECURITY', 'gone');\n"
                    "END $$;\n"
                    "DO $$ DECLARE names text[] := ARRAY['gone']; n text; BEGIN\n"
                    "  SELECT array_agg(tablename) INTO names FROM pg_tables;\n"
                    "  FOREACH n IN ARRAY names LOOP\n"
                    "    EXECUTE format('ALTER TABLE %I OWNER TO app', n);\n"
                    "  END LOOP;\nEND $$;\n"})
    plan, _ = plan_of(d)
    assert plan.safe
    assert [p.code for p in plan.problems] == ["CAL010", "CAL010"]  # (one per block)


def test_a_type_moved_to_another_schema_in_a_guarded_loop_runs_after_its_users(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (drizzle's workflow history scrambled, 83 % at three seeds): the last file
    moves enums to another schema (`EXECUTE format('ALTER TYPE public.%I SET SCHEMA
    w', name)` in a loop that skips a missing one with `CONTINUE`); the plan ran it
    before files still naming `public.status`. `ALTER TYPE … SET SCHEMA` is now a
    rename of the type, and the loop's statements, after a `CONTINUE`, are guarded: the
    move waits for the type's users, with no alarm of its own."""
    d = migration_dir(tmp_path, {
        "1_create.sql": "CREATE SCHEMA w;\n"
                        "CREATE TYPE public.status AS ENUM ('pending', 'done');\n"
                        "CREATE TABLE w.runs (id int PRIMARY KEY, status public.status);\n",
        "2_move.sql": "DO $$\nDECLARE enum_name text;\nBEGIN\n"
                      "  FOREACH enum_name IN ARRAY ARRAY['status'] LOOP\n"
                      "    IF to_regtype(format('public.%I', enum_name)) IS NULL THEN\n"
                      "      CONTINUE;\n    END IF;\n"
                      "    EXECUTE format('ALTER TYPE public.%I SET SCHEMA w', enum_name);\n"
                      "  END LOOP;\nEND $$;\n",
        "3_use.sql": "ALTER TABLE w.runs ALTER COLUMN status SET DATA TYPE text;\n"
                     "DROP TYPE public.status;\n"
                     "CREATE TYPE public.status AS ENUM ('pending', 'running', 'done');\n"
                     "ALTER TABLE w.runs ALTER COLUMN status SET DATA TYPE public.status"
                     " USING status::public.status;\n"})
    _, order = plan_of(d)
    assert order == ["1_create.sql", "3_use.sql", "2_move.sql"]
    assert pg_apply(pg_url, d, order) == []


def test_a_star_view_runs_after_the_drop_of_a_column_added_later(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (webstudio scrambled, 92 % at one seed): a view made with `SELECT *` ran
    between the `ADD COLUMN` of a column and its `DROP COLUMN`, and held the column
    ("cannot drop column … other objects depend on it"). In a misordered history, a star
    view now runs after the drop of each column of its table made once and dropped once,
    whether the `CREATE TABLE` or a later `ADD COLUMN` made it."""
    d = migration_dir(tmp_path, {
        "1_add.sql": 'ALTER TABLE "Project" ADD COLUMN "teamId" text;\n',
        "2_view.sql": 'CREATE VIEW "DashboardProject" AS SELECT * FROM "Project";\n',
        "3_project.sql": 'CREATE TABLE "Project" (id text PRIMARY KEY);\n',
        "4_drop.sql": 'ALTER TABLE "Project" DROP COLUMN "teamId";\n'})
    _, order = plan_of(d)
    assert order.index("4_drop.sql") < order.index("2_view.sql")
    assert pg_apply(pg_url, d, order) == []


def test_a_label_only_an_add_value_if_not_exists_gives_is_waited_for(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (hatchet scrambled, 98-99 %): a SQL function casts a `CASE` to an enum
    (`CASE p WHEN 3 THEN 'EVICTED' … END::status`: each result is read as a label, now
    a use of it), and the label's one adder is `ADD VALUE IF NOT EXISTS`, which is never
    blamed (the label may come another way). In a misordered history the use now waits
    for that adder with a soft edge."""
    d = migration_dir(tmp_path, {
        "1_fn.sql": "CREATE FUNCTION to_status(p int) RETURNS st LANGUAGE sql AS $$\n"
                    "  SELECT CASE p WHEN 1 THEN 'new' ELSE 'old' END::st $$;\n",
        "2_type.sql": "CREATE TYPE st AS ENUM ('old');\n",
        "3_add.sql": "ALTER TYPE st ADD VALUE IF NOT EXISTS 'new';\n"})
    plan, order = plan_of(d)
    assert order == ["2_type.sql", "3_add.sql", "1_fn.sql"]
    assert pg_apply(pg_url, d, order) == []
    (tmp_path / "intact").mkdir()
    d = migration_dir(tmp_path / "intact", {"1_type.sql": "CREATE TYPE st AS ENUM ('old');\n",
                                            "2_fn.sql": "SELECT 'new'::st;\n",
                                            "3_add.sql": "ALTER TYPE st ADD VALUE IF NOT EXISTS"
                                                         " 'new';\n"})
    plan, order = plan_of(d)  # (filename order fails, yet nothing in it says so: no alarm)
    assert plan.safe and order == sorted(order)


def test_a_literal_passed_to_an_enum_argument_is_a_use_of_the_label(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (hatchet scrambled): `SELECT create_partition(name, 'EVICTED')` passes a
    label to a function whose argument is an enum; the call ran before the label was
    added ("invalid input value for enum"). A string literal passed to a function made
    in the history is now a use of that label when every overload with that many
    arguments takes one enum there."""
    d = migration_dir(tmp_path, {
        "1_call.sql": "SELECT mark(1, 'new');\n",
        "2_type.sql": "CREATE TYPE st AS ENUM ('old');\n"
                      "CREATE FUNCTION mark(n int, s st) RETURNS int LANGUAGE sql"
                      " AS $$ SELECT n $$;\n",
        "3_add.sql": "ALTER TYPE st ADD VALUE 'new';\n"})
    plan, order = plan_of(d)
    assert order == ["2_type.sql", "3_add.sql", "1_call.sql"]
    assert any(p.code == "CAL001" and "3_add.sql" in p.message for p in plan.problems)
    assert pg_apply(pg_url, d, order) == []


def test_a_use_bound_to_a_later_definition_runs_before_that_definition_s_drop(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (matrix-synapse scrambled, 98-99 %): a file indexing two tables sorts
    before both creators; the first table's creator sorts before a file dropping it
    (`DROP TABLE IF EXISTS`), and the plan ran the indexing file last, after that drop.
    A use bound to a later definition now also runs before that definition's drop, as a
    use bound to an earlier one does."""
    d = migration_dir(tmp_path, {
        "1_index.sql": "CREATE INDEX IF NOT EXISTS ev_room ON ev (room);\n"
                       "CREATE INDEX IF NOT EXISTS other_room ON other (room);\n",
        "2_make.sql": "CREATE TABLE ev (room int);\n",
        "3_drop.sql": "DROP TABLE IF EXISTS ev;\n",
        "4_other.sql": "CREATE TABLE other (room int);\n"})
    _, order = plan_of(d)
    assert order.index("1_index.sql") < order.index("3_drop.sql")
    assert pg_apply(pg_url, d, order) == []


def test_a_drops_edge_names_the_line_of_the_use() -> None:
    """Issue 12 (procrastinate scrambled, 97 % at one seed): a `drops` edge (the user must
    run before the file dropping what it uses) carried the drop's line where the use's
    belongs; the overload replay (`overload_count.separate`), which keeps an edge only
    when its line holds a use when the file runs, read it as a function body's use and
    let a move break it, so `ALTER COLUMN` ran after the `DROP COLUMN`. Every `drops` edge
    now carries the use's line, and the drop's as `drop_line`."""
    from calctl.sql.analyse import analyse_text
    from calctl.sql.names.resolution import resolve

    texts = ["CREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN q text;\n",
             "\n\nALTER TABLE t ALTER COLUMN q DROP NOT NULL;\n",
             "SELECT 1;\n\n\n\n\nALTER TABLE t DROP COLUMN q;\n"]
    analyses = [analyse_text(t, False, ("public",), {}) for t in texts]
    (edge,) = [e for e in resolve(analyses).edges if e.kind == "drops"]
    assert (edge.provider, edge.user, edge.line, edge.drop_line) == (1, 2, 3, 6)


def test_a_label_use_reads_the_column_s_type_through_a_rename(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """Issue 12 (hatchet scrambled, 99 % at four seeds): a Prisma-style rebuild (`CREATE
    TYPE res_new`, the column moved to it, `DROP TYPE res`, `ALTER TYPE res_new RENAME
    TO res`) sorts before a file comparing the column with `'OLD'`, a label only the
    first enum has. The column's type at the use was read as `res_new` (renamed away
    since: no label), so the use bound to nothing and ran after the rebuild. The type
    is now followed through its rename; and a use before its own file's type change
    reads the type another file gives the column."""
    d = migration_dir(tmp_path, {
        "1_rebuild.sql": "DELETE FROM lim WHERE resource = 'OLD';\n"
                         "CREATE TYPE res_new AS ENUM ('NEW');\n"
                         "ALTER TABLE lim ALTER COLUMN resource TYPE res_new"
                         " USING resource::text::res_new;\n"
                         "DROP TYPE res CASCADE;\nALTER TYPE res_new RENAME TO res;\n",
        "2_use.sql": "UPDATE lim SET n = 1 WHERE resource = 'OLD';\n",
        "3_base.sql": "CREATE TYPE res AS ENUM ('OLD', 'NEW');\n"
                      "CREATE TABLE lim (resource res, n int);\n"})
    _, order = plan_of(d)
    assert order == ["3_base.sql", "2_use.sql", "1_rebuild.sql"]
    assert pg_apply(pg_url, d, order) == []


_REVIEWED_NO_ALARM = {  # (from a hostile review of this round's rules: each applies as named)
    "EXECUTE in a function never called": {
        "001_t.sql": "CREATE TABLE staging (x int);\n",
        "002_fn.sql": "CREATE FUNCTION drop_staging() RETURNS void LANGUAGE plpgsql AS $$\n"
                      "BEGIN\n  EXECUTE 'DROP TABLE IF EXISTS staging';\nEND $$;\n",
        "003_use.sql": "INSERT INTO staging VALUES (1);\n"},
    "EXECUTE after a RETURN that may end the block": {
        "001_t.sql": "CREATE TABLE modern (id int);\n",
        "002_merge.sql": "DO $$\nBEGIN\n  IF to_regclass('legacy') IS NULL THEN\n    RETURN;\n"
                         "  END IF;\n  EXECUTE 'INSERT INTO modern SELECT id FROM legacy';\n"
                         "  EXECUTE 'DROP TABLE legacy';\nEND $$;\n",
        "003_legacy_new.sql": "CREATE TABLE legacy (id int, note text);\n"},
    "a label after SET SCHEMA, through search_path": {
        "001_types.sql": "CREATE SCHEMA app;\n"
                         "CREATE TYPE status AS ENUM ('active', 'inactive');\n",
        "002_move.sql": "ALTER TYPE status SET SCHEMA app;\n",
        "003_sp.sql": "SET search_path TO app, public;\nSELECT 'inactive'::status;\n"
                      "CREATE TABLE app.people (id int, s status DEFAULT 'active');\n"
                      "SELECT * FROM app.people WHERE s = 'inactive';\n"},
    "a function named with the separator": {
        "001.sql": "CREATE TYPE st AS ENUM ('a');\n"
                   "CREATE FUNCTION \"x\x1fy\"(p int, s st) RETURNS int LANGUAGE sql"
                   " AS $$ SELECT 1 $$;\n",
        "002.sql": "SELECT \"x\x1fy\"(1, 'a');\n"},
    "a call inside another function's body": {
        "001_helpers.sql": "CREATE FUNCTION log_event(p_kind text) RETURNS void"
                           " LANGUAGE plpgsql AS $$\nBEGIN\n"
                           "  INSERT INTO event_log(kind) VALUES (p_kind);\nEND $$;\n"
                           "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                           "BEGIN\n  PERFORM log_event('touch');\n  RETURN NEW;\nEND $$;\n",
        "002_event_log.sql": "CREATE TABLE event_log (id serial PRIMARY KEY, kind text);\n",
        "003_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text);\n"
                         "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW"
                         " EXECUTE FUNCTION touch();\n"
                         "INSERT INTO users(email) VALUES ('a');\nUPDATE users SET email = 'b';\n"},
}


@pytest.mark.parametrize("name", sorted(_REVIEWED_NO_ALARM))
def test_intact_histories_the_review_found_raise_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    """A hostile review of this round's rules wrote intact histories (each applies in
    filename order) on which a first draft raised CAL001 or crashed: EXECUTE written out
    in a function body (only a DO block's runs now), after a RETURN that may end the
    block (guarded now), a label of a type moved with SET SCHEMA (its labels move with
    it), a function name holding the facts' separator. None may raise an alarm."""
    d = migration_dir(tmp_path, _REVIEWED_NO_ALARM[name])
    plan, order = plan_of(d)
    assert pg_apply(pg_url, d, order) == []
    assert_intact(plan, order)


def test_dynamic_sql_is_written_out_only_up_to_a_bound(tmp_path: Path) -> None:
    """A file is untrusted: a DO block looping 200 names over 50 `EXECUTE format(…)`s
    would be 10,000 statements to parse. At most `WRITTEN_AT_MOST` are written out; the
    rest stays unread, and CAL010 says so."""
    from calctl.sql.extract.plpgsql import WRITTEN_AT_MOST

    names = ", ".join(f"'t{i}'" for i in range(200))
    body = "\n".join(f"    EXECUTE format('ALTER TABLE %I OWNER TO r{j}', t);" for j in range(50))
    d = migration_dir(tmp_path, {
        "1_do.sql": f"DO $$ DECLARE t text; BEGIN\n  FOREACH t IN ARRAY ARRAY[{names}] LOOP\n"
                    f"{body}\n  END LOOP;\nEND $$;\n"})
    analysis = analyse(AnalysisInput((d / "1_do.sql").read_text()))
    assert 0 < sum(f.kind == "relation" and f.action == "alter" for f in analysis.facts) \
        <= WRITTEN_AT_MOST
    plan, _ = plan_of(d)
    assert [p.code for p in plan.problems].count("CAL010") == 1  # (CAL003: no such tables)


_REFRESH = ("CREATE FUNCTION refresh(full_refresh boolean DEFAULT false) RETURNS void\n"
            "LANGUAGE plpgsql AS $$\nBEGIN\n"
            "  IF full_refresh THEN TRUNCATE stats_state; END IF;\n"
            "  INSERT INTO stats (total) SELECT sum(cost) FROM inferences;\n"
            "END $$;\n")


@pytest.mark.parametrize("call", [
    "SELECT refresh(full_refresh => false);\n",
    "DO $$ BEGIN PERFORM refresh(); END $$;\n",
], ids=["select", "perform-in-do"])
def test_a_function_called_where_it_is_made_needs_what_its_body_uses(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], call: str) -> None:
    """tensorzero, scrambled: a file makes a function and calls it at once (`SELECT
    f(…)`), and the body reads a column another file adds. A body's uses are needed only
    when it runs — here, at the call: its unconditional statements' uses are the call's
    (the IF branch's stay weak, as in a DO block)."""
    d = migration_dir(tmp_path, {
        "1_stats.sql": "CREATE TABLE stats (total numeric);\n" + _REFRESH + call,
        "2_inferences.sql": "CREATE TABLE inferences (id int);\n",
        "3_cost.sql": "ALTER TABLE inferences ADD COLUMN cost numeric;\n",
        "4_state.sql": "CREATE TABLE stats_state (id int);\n",
    })
    plan, order = plan_of(d)
    assert [(p.path, p.code) for p in plan.problems] == [("1_stats.sql", "CAL001")] * 2
    assert order == ["2_inferences.sql", "3_cost.sql", "1_stats.sql", "4_state.sql"]
    assert pg_apply(pg_url, d, order) == []


@pytest.mark.parametrize("files", [
    # made, never called
    {"1_f.sql": "CREATE TABLE stats (total numeric);\n" + _REFRESH,
     "2_inferences.sql": "CREATE TABLE inferences (id int, cost numeric);\n"},
    # called by another function's body, or where a query reads rows (may never run)
    {"1_f.sql": "CREATE TABLE stats (total numeric);\n" + _REFRESH
                + "CREATE FUNCTION later() RETURNS void LANGUAGE sql AS $$ SELECT refresh() $$;\n"
                + "SELECT refresh() FROM stats;\n",
     "2_inferences.sql": "CREATE TABLE inferences (id int, cost numeric);\n"},
    # calls itself, and a chain of calls deeper than followed: no endless walk
    {"1_f.sql": "CREATE FUNCTION f(n int) RETURNS void LANGUAGE plpgsql AS $$\n"
                "BEGIN IF n > 0 THEN PERFORM f(n - 1); END IF; PERFORM g(); END $$;\n"
                + "".join(f"CREATE FUNCTION {a}() RETURNS void LANGUAGE plpgsql AS $$\n"
                          f"BEGIN PERFORM {b}(); END $$;\n"
                          for a, b in zip("ghijk", "hijkm", strict=True))
                + "CREATE FUNCTION m() RETURNS void LANGUAGE plpgsql AS $$\n"
                  "BEGIN INSERT INTO t VALUES (1); END $$;\n"
                + "SELECT f(3);\n",
     "2_t.sql": "CREATE TABLE t (a int);\n"},
], ids=["never-called", "called-where-it-may-not-run", "recursive-and-deep"])
def test_a_body_not_run_by_a_plain_call_stays_weak(tmp_path: Path, files: dict[str, str]
                                                  ) -> None:
    """A function made and not called at once, called only from other bodies or from a
    query over rows, or called through more nested calls than are followed: its body's
    uses stay weak (no alarm, no move), and a function calling itself ends."""
    assert_intact(*plan_of(migration_dir(tmp_path, files)))


def test_call_needs_the_procedure_it_runs(tmp_path: Path, pg_url: str,
                                          pg_apply: Callable[..., Any]) -> None:
    """`CALL p()` named nothing: the parser gives the call as a bare FuncCall's fields,
    which the generic walk did not see, so a file calling a procedure another file makes
    was never flagged nor moved. It needs the procedure."""
    d = migration_dir(tmp_path, {
        "1_items.sql": "CREATE TABLE items (id int);\n",
        "2_call.sql": "CALL seed(3);\n",
        "3_seed.sql": "CREATE PROCEDURE seed(n int) LANGUAGE plpgsql AS $$\n"
                      "BEGIN INSERT INTO items SELECT generate_series(1, n); END $$;\n",
    })
    plan, order = plan_of(d)
    assert [(p.path, p.code) for p in plan.problems] == [("2_call.sql", "CAL001")]
    assert order == ["1_items.sql", "3_seed.sql", "2_call.sql"]
    assert pg_apply(pg_url, d, order) == []


# intact histories (each applies in filename order) a hostile review of run_now wrote,
# on which its first draft raised CAL001
_CALLED_NO_ALARM: dict[str, dict[str, str]] = {
    'early-return': {
        'f1.sql': (
            'CREATE TABLE stats (n int);\n'
            'CREATE FUNCTION backfill() RETURNS void LANGUAGE plpgsql AS $$\n'
            'BEGIN\n'
            "  IF to_regclass('legacy') IS NULL THEN RETURN; END IF;\n"
            '  INSERT INTO stats SELECT n FROM legacy;\n'
            'END $$;\n'
            'SELECT backfill();\n'
        ),
        'f2.sql': (
            'CREATE TABLE legacy (n int);\n'
        ),
    },
    'dynamic-create': {
        '1_events.sql': (
            'CREATE TABLE events (id int, at date);\n'
            'CREATE FUNCTION make_partition(y int) RETURNS void LANGUAGE plpgsql AS $$\n'
            'BEGIN\n'
            "  EXECUTE format('CREATE TABLE events_%s (LIKE events)', y);\n"
            '  INSERT INTO events_2024 SELECT * FROM events;\n'
            'END $$;\n'
            'SELECT make_partition(2024);\n'
        ),
        '2_more.sql': (
            'CREATE TABLE IF NOT EXISTS events_2024 (id int, at date);\n'
        ),
    },
    'zero-loop': {
        'f1.sql': (
            'CREATE TABLE users (id int);\n'
            'CREATE FUNCTION sync() RETURNS void LANGUAGE plpgsql AS $$\n'
            'DECLARE r record;\n'
            'BEGIN\n'
            '  FOR r IN SELECT id FROM users LOOP\n'
            '    INSERT INTO audit (user_id) VALUES (r.id);\n'
            '  END LOOP;\n'
            'END $$;\n'
            'SELECT sync();\n'
        ),
        'f2.sql': (
            'CREATE TABLE audit (user_id int);\n'
        ),
    },
    'replaced-by-sql-return': {
        'f1.sql': (
            'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT '
            'count(*) FROM later_t); END $$;\n'
            'CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1;\n'
            'SELECT f();\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
    'dropped-and-made-atomic': {
        'f1.sql': (
            'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT '
            'count(*) FROM later_t); END $$;\n'
            'DROP FUNCTION f();\n'
            'CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\n'
            'SELECT f();\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
    'overloads': {
        'f1.sql': (
            'CREATE FUNCTION touch() RETURNS void LANGUAGE plpgsql AS $$ BEGIN NULL; END $$;\n'
            'CREATE FUNCTION touch(tbl regclass) RETURNS void LANGUAGE plpgsql AS $$ BEGIN '
            'INSERT INTO touched VALUES (tbl); END $$;\n'
            'SELECT touch();\n'
        ),
        'f2.sql': (
            'CREATE TABLE touched (t regclass);\n'
        ),
    },
    'sql-routine-calling': {
        'f1.sql': (
            'CREATE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN INSERT INTO later_t VALUES (1); '
            'END $$;\n'
            'CREATE PROCEDURE q() LANGUAGE sql AS $$ CALL p(); $$;\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
    'own-search-path': {
        'f1.sql': (
            'CREATE SCHEMA app;\n'
            'CREATE TABLE app.items (a int);\n'
            'CREATE FUNCTION app.count_items() RETURNS bigint LANGUAGE plpgsql SET search_path = '
            'app AS $$\n'
            'BEGIN RETURN (SELECT count(*) FROM items); END $$;\n'
            'SELECT app.count_items();\n'
        ),
        'f2.sql': (
            'CREATE TABLE public.items (a int);\n'
        ),
    },
    'path-finds-another': {
        'f0.sql': (
            'CREATE SCHEMA app;\n'
            "CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"
        ),
        'f1.sql': (
            'CREATE FUNCTION public.f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT '
            'count(*) FROM later_t); END $$;\n'
            'SET search_path = app, public;\n'
            'SELECT f();\n'
            'RESET search_path;\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
    'nested-block-variable': {
        'f1.sql': (
            'CREATE TABLE t (id int, total int);\n'
            'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\n'
            'DECLARE v_total int := 5;\n'
            'BEGIN\n'
            '  <<inner>>\n'
            '  BEGIN\n'
            '    UPDATE t SET total = v_total;\n'
            '  END;\n'
            'END $$;\n'
            'SELECT f();\n'
        ),
        'f2.sql': (
            'ALTER TABLE t ADD COLUMN v_total int;\n'
        ),
    },
    'strict-on-null': {
        'f1.sql': (
            'CREATE FUNCTION f(x int) RETURNS void LANGUAGE plpgsql STRICT AS $$\n'
            'BEGIN INSERT INTO later_t VALUES (x); END $$;\n'
            'SELECT f(NULL);\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
    'limit-0': {
        'f1.sql': (
            'CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\n'
            'BEGIN INSERT INTO later_t VALUES (1); END $$;\n'
            'SELECT f() LIMIT 0;\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
    'do-loop-over-no-rows': {
        'f1.sql': (
            'CREATE TABLE tenants (id int);\n'
            'CREATE FUNCTION provision(t int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN INSERT '
            'INTO tenant_settings VALUES (t); END $$;\n'
            'DO $$ DECLARE r record; BEGIN FOR r IN SELECT id FROM tenants LOOP PERFORM '
            'provision(r.id); END LOOP; END $$;\n'
        ),
        'f2.sql': (
            'CREATE TABLE tenant_settings (t int);\n'
        ),
    },
    'cursor': {
        'f1.sql': (
            'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN INSERT INTO later_t '
            'VALUES (1); RETURN 1; END $$;\n'
            'DO $$ DECLARE c refcursor; BEGIN OPEN c FOR SELECT f(); CLOSE c; END $$;\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
    'renamed-away': {
        'f1.sql': (
            'CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT '
            'count(*) FROM later_t); END $$;\n'
            'ALTER FUNCTION f() RENAME TO f_old;\n'
            'CREATE FUNCTION f() RETURNS int LANGUAGE sql IMMUTABLE RETURN 1;\n'
            'SELECT f();\n'
        ),
        'f2.sql': (
            'CREATE TABLE later_t (a int);\n'
        ),
    },
}


@pytest.mark.parametrize("name", sorted(_CALLED_NO_ALARM))
def test_calls_that_need_not_run_the_body_now_raise_no_alarm(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any], name: str) -> None:
    """A call of a function its file made runs the body only where that is sure: not
    after a RETURN or EXIT that may end it, nor in a loop (it may run no time), nor with
    EXECUTE (what it makes is unknown), nor with a nested block (its variables are not
    told from columns); not a body replaced, dropped or renamed since, nor one of
    several overloads, nor one with its own search_path, nor another schema's function
    the path finds first; not a call in a SQL routine's body (it runs later), with a
    NULL argument, `LIMIT 0`, or in a cursor's query."""
    d = migration_dir(tmp_path, _CALLED_NO_ALARM[name])
    plan, order = plan_of(d)
    assert pg_apply(pg_url, d, order) == []
    assert_intact(plan, order)


_SWAP_TO_NEW_ID = {  # lobehub (drizzle): a table's key moved to a new id column
    "unique": "ALTER TABLE datasets ADD COLUMN id_nanoid text;\n"
              "UPDATE datasets SET id_nanoid = id::text;\n"
              "ALTER TABLE datasets ADD CONSTRAINT datasets_id_nanoid_unique UNIQUE (id_nanoid);\n",
    "switch": "ALTER TABLE records DROP CONSTRAINT records_dataset_fk;\n"
              "ALTER TABLE records ADD COLUMN dataset_nanoid text;\n"
              "ALTER TABLE records ADD CONSTRAINT records_dataset_nanoid_fk\n"
              "  FOREIGN KEY (dataset_nanoid) REFERENCES datasets (id_nanoid);\n",
    "primary": "ALTER TABLE datasets DROP CONSTRAINT datasets_pkey;\n"
               "ALTER TABLE datasets ADD PRIMARY KEY (id_nanoid);\n",
}


def test_a_foreign_key_over_a_new_unique_column_does_not_wait_for_the_key_swap(
        tmp_path: Path, pg_url: str, pg_apply: Callable[..., Any]) -> None:
    """lobehub, injected (every seed): drizzle adds a `UNIQUE` new id, moves the foreign
    keys to it, then swaps the primary key to it. In a misordered history (here another
    file is used before it is made), a foreign key over the key's new columns was put
    after the swap, so the swap ran while the old foreign key still held the old primary
    key ("cannot drop constraint … other objects depend on it"). The new foreign key
    needs the unique key already over its columns, not the swap."""
    d = migration_dir(tmp_path, {
        "0_make.sql": "CREATE TABLE datasets (id int PRIMARY KEY);\n"
                      "CREATE TABLE records (id int, dataset_id int\n"
                      "  CONSTRAINT records_dataset_fk REFERENCES datasets (id));\n",
        "1_unique.sql": _SWAP_TO_NEW_ID["unique"],
        "2_switch.sql": _SWAP_TO_NEW_ID["switch"],
        "3_primary.sql": _SWAP_TO_NEW_ID["primary"],
        "4_early.sql": "INSERT INTO late VALUES (1);\n",
        "5_late.sql": "CREATE TABLE late (id int);\n",
    })
    plan, order = plan_of(d)
    assert [m.path for m in plan.moves] == ["4_early.sql"]
    assert order.index("2_switch.sql") < order.index("3_primary.sql")
    assert pg_apply(pg_url, d, order) == []
