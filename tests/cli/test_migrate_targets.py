"""``migrate order|lint FILE…``: files stand for the migration directory they belong to
(what pre-commit passes), through the real console script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

UNSAFE = {  # 001 uses what 002 creates: filename order is unsafe
    "001_b.sql": "CREATE TABLE b (id int REFERENCES a (id));\n",
    "002_a.sql": "CREATE TABLE a (id int PRIMARY KEY);\n",
}
SAFE = {
    "001_a.sql": "CREATE TABLE a (id int PRIMARY KEY);\n",
    "002_b.sql": "CREATE TABLE b (id int REFERENCES a (id));\n",
}


def _write(directory: Path, files: dict[str, str]) -> None:
    for name, body in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")


def _project(tmp_path: Path, config: str) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    if config:
        (root / "calctl.toml").write_text(config, encoding="utf-8")
    return root


def test_files_check_the_configured_directory_once(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, '[migrate]\ndir = "db/migrations"\n')
    _write(root / "db" / "migrations", UNSAFE)
    _write(root, {"scripts/report.sql": "SELECT 1;\n", "README.md": "hello\n"})
    result = calctl("migrate", "order", "--check", "db/migrations/001_b.sql", "README.md",
                    "scripts/report.sql", "db/migrations/002_a.sql", cwd=root)
    assert result.returncode == 1, result.stderr
    assert result.stdout.count("filename order is unsafe") == 1  # one directory, once
    assert "001_b.sql" in result.stdout
    assert "README.md: not an SQL file, left out" in result.stderr
    assert ("scripts/report.sql: outside the migration directory db/migrations, left out"
            in result.stderr)
    lint = calctl("migrate", "lint", "db/migrations/002_a.sql", cwd=root)
    assert lint.returncode == 1 and "CAL001" in lint.stdout


def test_only_files_outside_a_migration_directory_pass_quietly(calctl: Any,
                                                               tmp_path: Path) -> None:
    root = _project(tmp_path, '[migrate]\ndir = "db/migrations"\n')
    _write(root / "db" / "migrations", UNSAFE)
    _write(root, {"scripts/report.sql": "SELECT 1;\n", "notes.txt": "x\n"})
    result = calctl("migrate", "order", "--check", "scripts/report.sql", "notes.txt",
                    "db/migrations/gone.sql", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "db/migrations/gone.sql: no such file, left out" in result.stderr
    quiet = calctl("-q", "migrate", "order", "--check", "scripts/report.sql", cwd=root)
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
    refused = calctl("migrate", "order", "--json", "scripts/report.sql", cwd=root)
    assert refused.returncode == 2
    assert refused.json()["kind"] == "error"


def test_without_a_configured_dir_the_migration_folder_is_found(calctl: Any,
                                                                tmp_path: Path) -> None:
    root = _project(tmp_path, "")
    # Prisma keeps one folder per migration: the directory is the folder above them
    _write(root / "prisma" / "migrations", {
        "20250101_b/migration.sql": UNSAFE["001_b.sql"],
        "20250102_a/migration.sql": UNSAFE["002_a.sql"],
    })
    _write(root / "sql", SAFE)  # a folder of its own: the file's parent
    result = calctl("migrate", "order", "--check", "--json",
                    "prisma/migrations/20250102_a/migration.sql", cwd=root)
    assert result.returncode == 1, result.stderr
    plan = result.json()
    assert plan["directory"].endswith("prisma/migrations")
    assert [m["path"] for m in plan["moves"]] == ["20250101_b/migration.sql"]
    both = calctl("migrate", "order", "--check", "sql/002_b.sql",
                  "prisma/migrations/20250101_b/migration.sql", cwd=root)
    assert both.returncode == 1, both.stderr
    # each directory once, in the order first named: sql/ is safe, prisma/migrations not
    assert both.stdout.startswith("filename order is safe (2 files;")
    assert both.stdout.count("filename order is unsafe") == 1
    safe_only = calctl("migrate", "order", "--check", "sql/001_a.sql", cwd=root)
    assert safe_only.returncode == 0, safe_only.stdout + safe_only.stderr
    two = calctl("migrate", "order", "--json", "sql/002_b.sql",
                 "prisma/migrations/20250101_b/migration.sql", cwd=root)
    assert two.returncode == 2
    assert "2 migration directories" in two.json()["message"]


def test_a_directory_argument_is_unchanged(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, "")
    _write(root / "elsewhere", UNSAFE)
    result = calctl("migrate", "order", "--check", "elsewhere", cwd=root)
    assert result.returncode == 1 and "001_b.sql" in result.stdout
    missing = calctl("migrate", "order", "nowhere", cwd=root)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
