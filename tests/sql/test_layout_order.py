"""Filename order is the order of the tool the directory belongs to (issue 12, item 11):
each tool's rule on real directories, the --check contract on Prisma's mixed-length
timestamps, --sort and the migrate.sort setting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from calctl.sql.discovery import discover_layout
from support import write


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        write(root / name, text)

GOOSE = "-- +goose Up\nSELECT 1;\n-- +goose Down\nSELECT 2;\n"
DBMATE = "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n"

CASES: list[tuple[str, dict[str, str], str, list[str]]] = [
    # Prisma: byte order of the folder names; natural order would put 20250625 first
    ("prisma", {"20250625_x/migration.sql": "", "20250604085536_y/migration.sql": "",
                "20250604085536-z/migration.sql": ""},
     "prisma", ["20250604085536-z/migration.sql", "20250604085536_y/migration.sql",
                "20250625_x/migration.sql"]),
    # Flyway: versions part by part, `.` or `_`, trailing zeros ignored; R__ last
    ("flyway", {"V2__b.sql": "", "V1_10__c.sql": "", "V1.2__d.sql": "", "V1__a.sql": "",
                "R__views.sql": "", "R__a_funcs.sql": ""},
     "flyway", ["V1__a.sql", "V1.2__d.sql", "V1_10__c.sql", "V2__b.sql", "R__a_funcs.sql",
                "R__views.sql"]),
    # golang-migrate: the number before the first `_`
    ("golang-migrate", {"10_b.up.sql": "", "2_a.up.sql": "", "0001_c.up.sql": ""},
     "golang-migrate", ["0001_c.up.sql", "2_a.up.sql", "10_b.up.sql"]),
    # goose: the same numeric rule, recognised by its annotations in every file
    ("goose", {"20250625_x.sql": GOOSE, "20250604085536_y.sql": GOOSE, "3_z.sql": GOOSE},
     "goose", ["3_z.sql", "20250625_x.sql", "20250604085536_y.sql"]),
    # dbmate: byte order of the file names (unlike goose on the same names)
    ("dbmate", {"20250625_x.sql": DBMATE, "20250604085536_y.sql": DBMATE, "3_z.sql": DBMATE},
     "dbmate", ["20250604085536_y.sql", "20250625_x.sql", "3_z.sql"]),
    # diesel: the folder name before its first `_`, `-` removed, compared as text
    ("diesel", {"2017-07-12-181524_b/up.sql": "", "20170711000000_a/up.sql": "",
                "20170713_c/up.sql": ""},
     "diesel", ["20170711000000_a/up.sql", "2017-07-12-181524_b/up.sql",
                "20170713_c/up.sql"]),
    # anything else: natural order
    ("natural", {"10_b.sql": "", "2_a.sql": "", "1_x/up.sql": "", "x.sql": ""},
     "natural", ["1_x/up.sql", "2_a.sql", "10_b.sql", "x.sql"]),
]


@pytest.mark.parametrize(("name", "files", "order", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_tool_runs_its_files_in_its_own_order(tmp_path: Path, name: str,
                                                    files: dict[str, str], order: str,
                                                    expected: list[str]) -> None:
    write_tree(tmp_path / name, files)
    found, layout = discover_layout(tmp_path / name)
    assert layout.order == order
    assert [f.path for f in found] == expected


def test_a_marker_in_only_some_files_is_not_the_tools(tmp_path: Path) -> None:
    write_tree(tmp_path / "m", {"1_a.sql": GOOSE, "2_b.sql": "SELECT 1;\n",
                                "20250625_c.sql": DBMATE})
    found, layout = discover_layout(tmp_path / "m")
    assert layout.order == "natural"
    assert [f.path for f in found] == ["1_a.sql", "2_b.sql", "20250625_c.sql"]


def test_migration_lock_marks_a_prisma_directory(tmp_path: Path) -> None:
    write_tree(tmp_path / "m", {"20250625_x/migration.sql": "", "20250604085536_y/migration.sql":
                                "", "seed.sql": "", "migration_lock.toml":
                                'provider = "postgresql"\n'})
    found, layout = discover_layout(tmp_path / "m")
    assert (layout.order, layout.why) == ("prisma", "migration_lock.toml")
    assert [f.path for f in found][:2] == ["20250604085536_y/migration.sql",
                                           "20250625_x/migration.sql"]


def test_sort_overrides_the_detected_order(tmp_path: Path) -> None:
    write_tree(tmp_path / "m", {"20250625_x/migration.sql": "",
                                "20250604085536_y/migration.sql": ""})
    found, layout = discover_layout(tmp_path / "m", sort="natural")
    assert layout.order == "natural"
    assert [f.path for f in found] == ["20250625_x/migration.sql",
                                       "20250604085536_y/migration.sql"]
    _, lexical = discover_layout(tmp_path / "m", sort="lexical")
    assert lexical.order == "lexical"


PRISMA = {
    # Prisma runs y (byte order) before x: y creates what x alters, so the history
    # applies as Prisma runs it, and --check must not report a move
    "20250625_x/migration.sql": "ALTER TABLE t ADD COLUMN b int;\n",
    "20250604085536_y/migration.sql": "CREATE TABLE t (a int);\n",
}


def test_check_makes_no_move_prisma_never_makes(calctl: Any, tmp_path: Path) -> None:
    write_tree(tmp_path / "m", PRISMA)
    check = calctl("migrate", "order", "m", "--check", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "move" not in check.stdout
    assert "filename order: prisma" in check.stdout
    doc = calctl("migrate", "order", "m", "--json", cwd=tmp_path).json()
    assert doc["order"] == "prisma" and doc["safe"] is True
    assert [f["path"] for f in doc["files"]] == ["20250604085536_y/migration.sql",
                                                 "20250625_x/migration.sql"]
    assert all(f["moved_from"] is None for f in doc["files"])
    # in natural order the same files are unsafe: the move Prisma never makes
    natural = calctl("migrate", "order", "m", "--check", "--sort", "natural", cwd=tmp_path)
    assert natural.returncode == 1
    assert "move 20250625_x/migration.sql" in natural.stdout
    lint = calctl("migrate", "lint", "m", "--sort", "natural", cwd=tmp_path)
    assert lint.returncode == 1 and "CAL001" in lint.stdout


def test_the_sort_setting_and_its_errors(calctl: Any, tmp_path: Path) -> None:
    write_tree(tmp_path / "m", PRISMA)
    (tmp_path / "calctl.toml").write_text('[migrate]\ndir = "m"\nsort = "natural"\n')
    natural = calctl("migrate", "order", "--json", cwd=tmp_path)
    assert natural.json()["order"] == "natural" and natural.json()["safe"] is False
    flag = calctl("migrate", "order", "--json", "--sort", "auto", cwd=tmp_path)
    assert flag.json()["order"] == "prisma" and flag.json()["safe"] is True
    bad_flag = calctl("migrate", "order", "--sort", "alphabetical", cwd=tmp_path)
    assert bad_flag.returncode == 2 and "--sort" in bad_flag.stderr
    assert "prisma" in bad_flag.stderr  # the hint lists the choices
    (tmp_path / "calctl.toml").write_text('[migrate]\ndir = "m"\nsort = "alphabetical"\n')
    bad_setting = calctl("config", "check", cwd=tmp_path)
    assert bad_setting.returncode == 2 and "migrate.sort" in bad_setting.stderr


def test_apply_in_filename_order_runs_the_tools_order(calctl: Any, tmp_path: Path,
                                                      pg_url: str) -> None:
    # filename order is Prisma's: y (which creates t) before x (which alters it); in
    # natural order x would run first and fail
    write_tree(tmp_path / "m", PRISMA)
    env = {"DATABASE_URL": pg_url}
    natural = calctl("migrate", "apply", "m", "--order", "filename", "--sort", "natural",
                     "--json", cwd=tmp_path, env=env)
    assert natural.returncode == 1
    assert natural.json()["file"].endswith("20250625_x/migration.sql")
    applied = calctl("migrate", "apply", "m", "--order", "filename", "--json", cwd=tmp_path,
                     env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert [s["path"] for s in applied.json()["steps"]] == [
        "20250604085536_y/migration.sql", "20250625_x/migration.sql"]
