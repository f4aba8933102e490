"""The statement rules about locking or rewriting an existing table stay quiet on a
table a file the target has not applied creates (``migrate lint --database-url``), and
fire on it without a database, where earlier files' tables count as existing."""

from __future__ import annotations

from pathlib import Path

from calctl.config import MigrateSettings
from calctl.sql.runtime import lint_directory

FILES = {
    "001_accounts.sql": "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n",
    "002_t.sql": "CREATE TABLE t (id bigint, a int, b text);\n",
    "003_change.sql": (
        "SET lock_timeout = '5s';\nSET statement_timeout = '5s';\n"
        "ALTER TABLE t ADD COLUMN token uuid DEFAULT gen_random_uuid();\n"   # CAL016
        "ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES accounts (id);\n"      # CAL015, 017
        "ALTER TABLE t ALTER COLUMN b TYPE varchar(10);\n"                   # CAL018
        "ALTER TABLE t ALTER COLUMN a SET NOT NULL;\n"                       # CAL019
        "ALTER TABLE t ADD COLUMN c int NOT NULL;\n"                         # CAL020
        "ALTER TABLE t ADD PRIMARY KEY (id);\n"                              # CAL015, 021
        "ALTER TABLE t RENAME COLUMN b TO note;\n"                           # CAL022
        "ALTER TABLE t ADD CONSTRAINT t_c UNIQUE (c);\n"                     # CAL015, 024
        "ALTER TABLE t ALTER COLUMN note DROP NOT NULL;\n"                   # CAL027
        "REINDEX TABLE t;\n"                                                 # CAL013
        "ALTER TABLE t SET SCHEMA archive;\n"                                # CAL028
    ),
}
TABLE_RULES = {"CAL013", "CAL015", "CAL016", "CAL017", "CAL018", "CAL019", "CAL020",
               "CAL021", "CAL022", "CAL024", "CAL027", "CAL028"}


def codes(tmp_path: Path, context: dict[str, object] | None) -> set[str]:
    root = tmp_path / "migrations"
    root.mkdir(exist_ok=True)
    for name, sql in FILES.items():
        (root / name).write_text(sql, encoding="utf-8")
    found = lint_directory(root, MigrateSettings(), cache_dir=tmp_path / "cache",
                           context=context).problems
    return {p.code for p in found if p.path.endswith("003_change.sql")}


def test_without_a_database_earlier_tables_exist(tmp_path: Path) -> None:
    assert codes(tmp_path, None) >= TABLE_RULES


def test_a_table_the_target_lacks_is_new(tmp_path: Path) -> None:
    found = codes(tmp_path, {"unapplied": frozenset({"002_t.sql", "003_change.sql"})})
    assert not found & TABLE_RULES, found & TABLE_RULES


def test_a_table_the_target_has_is_not_new(tmp_path: Path) -> None:
    found = codes(tmp_path, {"unapplied": frozenset({"003_change.sql"})})
    assert found >= TABLE_RULES
