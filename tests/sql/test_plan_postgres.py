"""Plans of real DDL, applied to a real PostgreSQL in the plan's order."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calctl.config import MigrateSettings
from calctl.sql.runtime import build_plan

SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "migrations" / "shop"


def _copy(tmp_path: Path, renames: dict[str, str]) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(SHOP, target)
    for old, new in renames.items():
        (target / old).rename(target / new)
    return target


def test_filename_order_that_applies_is_kept(tmp_path: Path, pg_url: str,
        pg_apply: Callable[..., Any]) -> None:
    plan, files = build_plan(SHOP, MigrateSettings(), cache_dir=tmp_path)
    assert plan.safe
    assert [f.moved_from for f in plan.files] == [None] * len(plan.files)
    assert [f.path for f in files] == sorted(p.name for p in SHOP.glob("*.sql"))
    assert plan.problems == []
    assert pg_apply(pg_url, SHOP, [f.path for f in plan.files]) == []
    by_path = {f.path: f for f in plan.files}
    deps = {(d.path, d.object) for d in by_path["009_order_totals.sql"].depends_on}
    assert ("005_orders.sql", 'table "orders"') in deps
    assert ("006_rename_total.sql", 'column "orders.amount"') in deps  # follows the rename
    assert ("004_accounts.sql", 'table "billing.accounts"') in deps
    wallet = {(d.path, d.object) for d in by_path["011_wallet_owner.sql"].depends_on}
    assert ("010_rename_accounts.sql", 'table "billing.wallets"') in wallet
    trigger = {d.object for d in by_path["008_users_trigger.sql"].depends_on}
    assert 'function "touch_updated_at"' in trigger
    orders = {d.object for d in by_path["005_orders.sql"].depends_on}
    assert 'enum "order_status"' in orders or 'type "order_status"' in orders


def test_creator_renumbered_after_its_users(tmp_path: Path, pg_url: str,
        pg_apply: Callable[..., Any]) -> None:
    directory = _copy(tmp_path, {"003_users.sql": "015_users.sql"})
    names = sorted(p.name for p in directory.glob("*.sql"))
    assert pg_apply(pg_url, directory, names), "filename order should fail here"
    plan, _ = build_plan(directory, MigrateSettings(), cache_dir=tmp_path / "c")
    assert not plan.safe
    forward = [p for p in plan.problems if p.code == "CAL001"]
    assert any(p.path == "004_accounts.sql" and "015_users.sql" in p.message for p in forward)
    moved = {f.path for f in plan.files if f.moved_from is not None}
    assert "004_accounts.sql" in moved and "015_users.sql" not in moved
    order = [f.path for f in plan.files]
    assert order.index("015_users.sql") < order.index("004_accounts.sql")


def test_plan_of_renumbered_directory_applies(tmp_path: Path, pg_url: str,
        pg_apply: Callable[..., Any]) -> None:
    directory = _copy(tmp_path, {"003_users.sql": "015_users.sql",
                                 "007_touch_function.sql": "016_touch_function.sql",
                                 "004_accounts.sql": "017_accounts.sql"})
    plan, files = build_plan(directory, MigrateSettings(), cache_dir=tmp_path / "c")
    assert pg_apply(pg_url, directory, [f.path for f in files]) == []
    assert [f.path for f in files] == [f.path for f in plan.files]


def test_non_transactional_file_is_marked(tmp_path: Path, pg_url: str,
        pg_apply: Callable[..., Any]) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "001_t.sql").write_text("CREATE TABLE t (id int, v text);\n")
    (directory / "002_idx.sql").write_text("CREATE INDEX CONCURRENTLY t_v ON t (v);\n")
    (directory / "003_enum.sql").write_text(
        "CREATE TYPE mood AS ENUM ('ok');\n"
        "ALTER TYPE mood ADD VALUE 'great';\n"
        "CREATE TABLE feelings (m mood DEFAULT 'great');\n")
    (directory / "004_plain.sql").write_text("ALTER TABLE t ADD COLUMN w int;\n")
    plan, _ = build_plan(directory, MigrateSettings(), cache_dir=tmp_path / "c")
    marks = {f.path: f.transaction for f in plan.files}
    assert marks == {"001_t.sql": True, "002_idx.sql": False, "003_enum.sql": False,
                     "004_plain.sql": True}
    # each of them really fails inside a transaction block
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int, v text)")
        for sql in ("CREATE INDEX CONCURRENTLY t_v ON t (v)",):
            try:
                with conn.transaction():
                    conn.execute(sql)  # type: ignore[arg-type]
                raised = False
            except psycopg.Error:
                raised = True
            assert raised


def test_rename_numbered_before_a_use_of_the_old_name(tmp_path: Path, pg_url: str,
                                                      pg_apply: Callable[..., Any]) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "001_t.sql").write_text("CREATE TABLE t (id int, a int);\n")
    (d / "002_rename.sql").write_text("ALTER TABLE t RENAME COLUMN a TO b;\n")
    (d / "003_old_name.sql").write_text("CREATE INDEX t_a ON t (a);\n")
    (d / "004_new_name.sql").write_text("CREATE INDEX t_b ON t (b);\n")
    plan, files = build_plan(d, MigrateSettings(), cache_dir=None)
    assert not plan.safe
    (problem,) = [p for p in plan.problems if p.code == "CAL001"]
    assert problem.path == "002_rename.sql" and "003_old_name.sql" in problem.message
    assert problem.line == 1
    order = [f.path for f in files]
    assert order == ["001_t.sql", "003_old_name.sql", "002_rename.sql", "004_new_name.sql"]
    assert pg_apply(pg_url, d, order) == []
