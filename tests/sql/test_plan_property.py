"""Property: random schemas split over randomly numbered files; the plan applies.

The generator writes statements in an order that works (each object uses only
objects written before it), cuts that list into files, and numbers the files in
a random order. Whatever the numbering, the plan's order must apply cleanly to a
real PostgreSQL, report no cycle, and move nothing when the numbering happens to
be the original order; and the plan is "safe" exactly when filename order applies.
"""

from __future__ import annotations

import random
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calctl.config import MigrateSettings
from calctl.documents import MigrationPlan
from calctl.sql.plan import DirectoryAnalysis, plan_from, problems_of
from calctl.sql.runtime import analyse_directory, build_plan
from support import corpus


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


# ---------------------------------------------------------------- the plan never contradicts
# itself (issue 12, item 8): every file comes after each file in its depends_on — and
# after every file an ordering edge puts before it — or the pair is one step of a cycle
# reported as CAL002. Checked on random tangles (forward uses, cycles, idempotent
# creators, constraints, renames and drops in any order) and on every corpus.


def contradictions(result: DirectoryAnalysis, plan: MigrationPlan) -> list[str]:
    """Every need the plan breaks without a reported cycle, as text (empty: none)."""
    index = {f.path: i for i, f in enumerate(result.files)}
    placed = {f.path: f.position for f in plan.files}
    at = {index[path]: position for path, position in placed.items()}
    in_cycle = {pair for cycle in result.ordering.cycles for pair in pairwise(cycle)}
    out = []
    for f in plan.files:
        for d in f.depends_on:
            if placed[d.path] > f.position and (index[d.path], index[f.path]) not in in_cycle:
                out.append(f"{f.path} runs before {d.path}, which it needs ({d.object})")
    choices = {(members[0], user): members for members, user in result.resolution.choices}
    for e in result.resolution.edges:
        members = choices.get((e.provider, e.user), (e.provider,))
        if e.provider != e.user and min(at[m] for m in members) > at[e.user] \
                and (e.provider, e.user) not in in_cycle:
            out.append(f"edge {e} broken")
    cycles = [p for p in plan.problems if p.code == "CAL002"]
    if len(cycles) != len(result.ordering.cycles):
        out.append(f"{len(result.ordering.cycles)} cycles, {len(cycles)} reported")
    if sorted(placed.values()) != list(range(len(result.files))):
        out.append("the plan does not place every file once")
    return out


def _plan_of(directory: Path, migrate: MigrateSettings | None = None,
             ) -> tuple[DirectoryAnalysis, MigrationPlan]:
    result = analyse_directory(directory, migrate or MigrateSettings(), cache_dir=None)
    return result, plan_from(result, problems_of(result, "order"))


def _tangle(rnd: random.Random) -> list[str]:
    """Statements on a few shared names, in any order: many apply in no order at all."""
    t = [f"t{i}" for i in range(4)]
    pick = rnd.choice
    kinds = [
        lambda: "CREATE SCHEMA IF NOT EXISTS app",
        lambda: "CREATE SCHEMA app",
        lambda: f"CREATE TABLE {pick(t)} (id int PRIMARY KEY, n int, "
                f"r int REFERENCES {pick(t)} (id))",
        lambda: f"CREATE TABLE IF NOT EXISTS {pick(t)} (id int UNIQUE)",
        lambda: f"CREATE TABLE IF NOT EXISTS app.{pick(t)} (id int)",
        lambda: f"CREATE INDEX IF NOT EXISTS idx{rnd.randrange(3)} ON {pick(t)} (id)",
        lambda: f"CREATE INDEX idx{rnd.randrange(3)} ON {pick(t)} (n)",
        lambda: f"ALTER TABLE {pick(t)} ADD CONSTRAINT c{rnd.randrange(3)} CHECK (n > 0)",
        lambda: f"ALTER TABLE {pick(t)} DROP CONSTRAINT c{rnd.randrange(3)}",
        lambda: f"ALTER TABLE {pick(t)} DROP CONSTRAINT {pick(t)}_pkey",
        lambda: f"ALTER INDEX {pick(t)}_pkey RENAME TO {pick(t)}_pk",
        lambda: f"ALTER TABLE {pick(t)} RENAME CONSTRAINT c{rnd.randrange(3)} TO c9",
        lambda: f"ALTER TABLE {pick(t)} RENAME TO {pick(t)}",
        lambda: f"DROP TABLE {pick(t)}",
        lambda: f"DROP INDEX IF EXISTS idx{rnd.randrange(3)}",
        lambda: f"CREATE VIEW v{rnd.randrange(2)} AS SELECT id FROM {pick(t)}",
        lambda: f"ALTER TABLE {pick(t)} ADD COLUMN c{rnd.randrange(2)} int",
        lambda: f"ALTER TABLE {pick(t)} DROP COLUMN c{rnd.randrange(2)}",
        lambda: f"CREATE INDEX ON {pick(t)} (c{rnd.randrange(2)})",
        lambda: f"INSERT INTO app.{pick(t)} (id) SELECT id FROM {pick(t)}",
        lambda: f"CREATE OR REPLACE FUNCTION f() RETURNS bigint LANGUAGE sql "
                f"AS $$ SELECT count(*) FROM {pick(t)} $$",
        lambda: "DO $$ BEGIN CREATE TYPE k AS ENUM ('a'); "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        lambda: f"ALTER TABLE {pick(t)} ADD COLUMN k k",
    ]
    return [rnd.choice(kinds)() for _ in range(rnd.randint(2, 30))]


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False))
def test_plan_of_a_tangle_never_contradicts_itself(rnd: random.Random,
                                                   tmp_path_factory: Any) -> None:
    directory = tmp_path_factory.mktemp("tangle")
    stmts = _tangle(rnd)
    count = rnd.randint(1, min(10, len(stmts)))
    cuts = sorted(rnd.sample(range(1, len(stmts)), count - 1)) if count > 1 else []
    for n, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(stmts)], strict=True)):
        (directory / f"{rnd.randrange(100):02d}_{n}.sql").write_text(
            ";\n".join(stmts[a:b]) + ";\n", encoding="utf-8")
    result, plan = _plan_of(directory)
    assert contradictions(result, plan) == [], stmts


CORPORA = ["real/goharbor__harbor", "real/hatchet-dev__hatchet", "real/temporalio__temporal",
           "real/triggerdotdev__trigger.dev", "calos-agent-router", "pg-regression"]


def test_every_corpus_is_listed() -> None:
    real = corpus("real")
    assert {f"real/{d.name}" for d in real.iterdir() if d.is_dir()} <= set(CORPORA)


@pytest.mark.parametrize("name", CORPORA)
def test_plan_of_a_corpus_never_contradicts_itself(name: str, tmp_path: Path) -> None:
    migrate = MigrateSettings(known_objects=("schema_migrations",) if "harbor" in name
                              else ())
    root = corpus(name)
    result, plan = _plan_of(root, migrate)
    assert contradictions(result, plan) == []
    # scrambled: every file under a random name (forward uses and cycles everywhere)
    rnd = random.Random(12)
    paths = sorted(p for p in root.rglob("*.sql") if p.is_file())
    numbers = rnd.sample(range(10 * len(paths)), len(paths))
    for number, path in zip(numbers, paths, strict=True):
        (tmp_path / f"{number:05d}_{path.stem}.sql").write_bytes(path.read_bytes())
    result, plan = _plan_of(tmp_path, migrate)
    assert len(plan.files) == len(paths)
    assert contradictions(result, plan) == []
