"""Property: random schemas split over randomly numbered files; the plan applies.

The generator writes statements in an order that works (each object uses only
objects written before it), cuts that list into files, and numbers the files in
a random order. Whatever the numbering, the plan's order must apply cleanly to a
real PostgreSQL, report no cycle, and move nothing when the numbering happens to
be the original order; and the plan is "safe" exactly when filename order applies.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calctl.config import MigrateSettings
from calctl.sql.runtime import build_plan


def _schema(rnd: random.Random) -> list[str]:
    stmts: list[str] = []
    tables: list[str] = []
    enums: list[str] = []
    extra: list[str] = []
    for i in range(rnd.randint(2, 7)):
        if rnd.random() < 0.3:
            if rnd.random() < 0.5:
                stmts.append(f"CREATE TYPE kind_{i} AS ENUM ('a', 'b')")
            else:
                stmts.append(f"DO $$ BEGIN CREATE TYPE kind_{i} AS ENUM ('a', 'b'); "
                             "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
            enums.append(f"kind_{i}")
        table = f"t{i}"
        cols = ["id bigserial PRIMARY KEY", "name text NOT NULL DEFAULT ''"]
        if rnd.random() < 0.2:
            stmts.append(f"CREATE SEQUENCE {table}_no_seq")
            cols.append(f"no bigint DEFAULT nextval('{table}_no_seq')")
        refs = rnd.sample(tables, k=min(len(tables), rnd.randint(0, 2)))
        cols += [f"{r}_id bigint REFERENCES {r} (id)" for r in refs]
        if enums and rnd.random() < 0.5:
            cols.append(f"kind {rnd.choice(enums)} DEFAULT 'a'")
        if rnd.random() < 0.2:
            cols.append("CHECK (name <> 'forbidden')")
        stmts.append(f"CREATE TABLE {table} (\n  " + ",\n  ".join(cols) + "\n)")
        tables.append(table)
        if rnd.random() < 0.2:
            stmts.append(f"COMMENT ON COLUMN {table}.name IS 'the name'")
        if rnd.random() < 0.2:
            stmts.append(f"GRANT SELECT ON {table} TO PUBLIC")
        if rnd.random() < 0.4:
            stmts.append(f"ALTER TABLE {table} ADD COLUMN extra_{i} integer")
            extra.append(f"{table}.extra_{i}")
        if rnd.random() < 0.4:
            stmts.append(f"CREATE INDEX {table}_name_idx ON {table} (name) WHERE name <> ''")
        if refs and rnd.random() < 0.5:
            r = refs[0]
            stmts.append(f"CREATE VIEW {table}_v AS SELECT a.id, b.name AS parent "
                         f"FROM {table} a JOIN {r} b ON b.id = a.{r}_id")
        if len(tables) > 1 and rnd.random() < 0.2:
            other = rnd.choice(tables[:-1])
            stmts.append(f"ALTER TABLE {table} ADD COLUMN link_{i} bigint")
            stmts.append(f"ALTER TABLE {table} ADD CONSTRAINT {table}_link_fk "
                         f"FOREIGN KEY (link_{i}) REFERENCES {other} (id)")
        if rnd.random() < 0.15:
            stmts.append(f"CREATE MATERIALIZED VIEW {table}_mv AS SELECT count(*) AS n "
                         f"FROM {table}")
        if rnd.random() < 0.15:
            stmts.append(f"CREATE POLICY {table}_named ON {table} USING (name <> '')")
        if rnd.random() < 0.3:
            stmts.append(f"CREATE FUNCTION {table}_count() RETURNS bigint LANGUAGE sql "
                         f"AS $$ SELECT count(*) FROM {table} $$")
        if rnd.random() < 0.2:
            stmts.append(f"CREATE FUNCTION {table}_touch() RETURNS trigger LANGUAGE plpgsql "
                         "AS $$ BEGIN NEW.name := lower(NEW.name); RETURN NEW; END $$")
            stmts.append(f"CREATE TRIGGER {table}_touch BEFORE INSERT ON {table} "
                         f"FOR EACH ROW EXECUTE FUNCTION {table}_touch()")
        if extra and rnd.random() < 0.3:
            owner, column = rnd.choice(extra).split(".")
            stmts.append(f"CREATE INDEX {column}_idx ON {owner} ({column})")
            if rnd.random() < 0.5:
                stmts.append(f"ALTER TABLE {owner} RENAME COLUMN {column} TO {column}_r")
                stmts.append(f"COMMENT ON COLUMN {owner}.{column}_r IS 'renamed'")
            extra.remove(f"{owner}.{column}")
        if rnd.random() < 0.2:
            stmts.append(f"INSERT INTO {table} (name) VALUES ('seed')")
            if refs:
                stmts.append(f"INSERT INTO {refs[0]} (name) SELECT name FROM {table}")
    return stmts


def _write(directory: Path, rnd: random.Random) -> tuple[list[str], list[str]]:
    """Files in the order that works, and their names (numbered in random order)."""
    stmts = _schema(rnd)
    count = rnd.randint(2, min(8, len(stmts)))
    cuts = sorted(rnd.sample(range(1, len(stmts)), count - 1))
    chunks = [stmts[a:b] for a, b in zip([0, *cuts], [*cuts, len(stmts)], strict=True)]
    numbers = rnd.sample(range(1, 100), count)
    names = [f"{n:03d}_part.sql" for n in numbers]
    for name, chunk in zip(names, chunks, strict=True):
        (directory / name).write_text(";\n\n".join(chunk) + ";\n", encoding="utf-8")
    return names, sorted(names)


def _reset(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False))
def test_plan_of_shuffled_files_applies(rnd: random.Random, tmp_path_factory: Any,
                                        pg_url: str, pg_apply: Any) -> None:
    directory = tmp_path_factory.mktemp("prop")
    working, by_name = _write(directory, rnd)
    plan, files = build_plan(directory, MigrateSettings(), cache_dir=None)
    assert not [p for p in plan.problems if p.severity == "error" and p.code != "CAL001"]
    order = [f.path for f in files]
    _reset(pg_url)
    assert pg_apply(pg_url, directory, order) == [], (order, working)
    if by_name == working:
        assert plan.safe and all(f.moved_from is None for f in plan.files)
    # --check's verdict is right both ways: "safe" exactly when filename order applies
    _reset(pg_url)
    failures = pg_apply(pg_url, directory, by_name)
    assert plan.safe == (failures == []), (plan.problems, failures)
