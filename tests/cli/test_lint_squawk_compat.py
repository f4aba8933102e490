"""A team switching from squawk keeps its annotations: ``-- squawk-ignore`` comments,
``-- squawk-ignore-file``, and ``.squawk.toml`` (excluded rules and paths, pg_version).
Each annotation is checked against squawk itself (squawk-cli, a dev dependency) too."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SQUAWK = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
RULE = "require-concurrent-index-creation"

TABLE = "CREATE TABLE accounts (id bigint, email text, name text, note text);\n"


def _project(root: Path, files: dict[str, str], config: str = "") -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_accounts.sql").write_text(TABLE, encoding="utf-8")
    for name, text in files.items():
        (root / "migrations" / name).write_text(text, encoding="utf-8")
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n' + config,
                                      encoding="utf-8")
    return root


def _calctl_lines(calctl: Any, root: Path, *args: str) -> list[tuple[str, int]]:
    result = calctl("migrate", "lint", "--json", *args, cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return sorted((p["path"], p["line"]) for p in result.json()["problems"]
                  if p["code"] == "CAL011")


def _squawk_lines(root: Path, name: str) -> list[tuple[str, int]]:
    assert SQUAWK, "squawk-cli is a dev dependency"
    run = subprocess.run([SQUAWK, "--reporter", "json", name], cwd=root / "migrations",
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode in (0, 1), run.stderr
    return sorted((v["file"], v["line"] + 1) for v in json.loads(run.stdout or "[]")
                  if v["rule_name"] == RULE)


IGNORED = {
    # a comment above the statement, squawk's way (commas, spaces, other rules)
    "above": (f"-- squawk-ignore {RULE}\nCREATE INDEX a1 ON accounts (email);\n"
              f"CREATE INDEX a2 ON accounts (name);\n", [3]),
    "list": (f"-- squawk-ignore ban-drop-column,{RULE} -- reviewed\n"
             "CREATE INDEX a1 ON accounts (email);\n", []),
    "block": (f"/* squawk-ignore {RULE} */\nCREATE INDEX a1 ON accounts (email);\n", []),
    "no-space": (f"--squawk-ignore {RULE}\nCREATE INDEX a1 ON accounts (email);\n", []),
    "other-rule": ("-- squawk-ignore ban-drop-column\nCREATE INDEX a1 ON accounts (email);\n",
                   [2]),
    "file": (f"CREATE INDEX a1 ON accounts (email);\n-- squawk-ignore-file {RULE}\n"
             "CREATE INDEX a2 ON accounts (name);\n", []),
    "file-all": ("CREATE INDEX a1 ON accounts (email);\n-- squawk-ignore-file\n", []),
    "file-other": ("-- squawk-ignore-file ban-drop-column\n"
                   "CREATE INDEX a1 ON accounts (email);\n", [2]),
}


@pytest.mark.parametrize("case", sorted(IGNORED))
def test_squawk_ignore_comments_silence_the_twin(calctl: Any, tmp_path: Path,
                                                 case: str) -> None:
    text, lines = IGNORED[case]
    root = _project(tmp_path, {"002_index.sql": text})
    expected = [("002_index.sql", line) for line in lines]
    assert _calctl_lines(calctl, root) == expected
    assert _squawk_lines(root, "002_index.sql") == expected  # squawk reads it the same way


def test_a_bare_squawk_ignore_file_leaves_calctl_s_own_rules(calctl: Any,
                                                              tmp_path: Path) -> None:
    root = _project(tmp_path, {"002_x.sql": "-- squawk-ignore-file\n"
                                            "CREATE INDEX a1 ON accounts (email);\n"
                                            "INSERT INTO nowhere VALUES (1);\n"})
    result = calctl("migrate", "lint", "--json", cwd=root)
    assert [p["code"] for p in result.json()["problems"]] == ["CAL003"]


def test_squawk_toml_excluded_rules_and_paths(calctl: Any, tmp_path: Path) -> None:
    index = "CREATE INDEX a1 ON accounts (email);\n"
    root = _project(tmp_path, {"002_a.sql": index, "003_b.sql": index})
    assert _calctl_lines(calctl, root) == [("002_a.sql", 1), ("003_b.sql", 1)]
    (root / ".squawk.toml").write_text(
        'excluded_paths = ["003_*.sql"]\nassume_in_transaction = true\n', encoding="utf-8")
    assert _calctl_lines(calctl, root) == [("002_a.sql", 1)]
    (root / ".squawk.toml").write_text(
        f'excluded_rules = ["{RULE}", "prefer-robust-stmts"]\n', encoding="utf-8")
    assert _calctl_lines(calctl, root) == []
    # calctl's own selection comes after: selecting the rule by code brings it back
    assert _calctl_lines(calctl, root, "--select", "CAL011") == [("002_a.sql", 1),
                                                                 ("003_b.sql", 1)]


def test_a_squawk_toml_calctl_cannot_read_is_exit_2(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, {})
    (root / ".squawk.toml").write_text('pg_version = "thirteen"\n', encoding="utf-8")
    result = calctl("migrate", "lint", cwd=root)
    assert result.returncode == 2
    assert ".squawk.toml: pg_version must be a PostgreSQL version" in result.stderr
    (root / ".squawk.toml").write_text('excluded_rules = "x"\n', encoding="utf-8")
    result = calctl("migrate", "lint", cwd=root)
    assert result.returncode == 2 and "excluded_rules must be a list" in result.stderr


def test_pg_version_precedence_flag_config_squawk(tmp_path: Path) -> None:
    from calctl.cli.migrate._lintopts import LintOptions, prepare
    from calctl.config import Settings

    root = _project(tmp_path, {})
    directory = root / "migrations"
    (root / ".squawk.toml").write_text('pg_version = "11.4"\n', encoding="utf-8")
    settings = Settings.resolve({}, cwd=root, env={})
    assert prepare(settings, directory, LintOptions()).pg_version == 11
    (root / "calctl.toml").write_text('[migrate.lint]\npg_version = "13.0"\n',
                                      encoding="utf-8")
    settings = Settings.resolve({}, cwd=root, env={})
    assert prepare(settings, directory, LintOptions()).pg_version == 13
    assert prepare(settings, directory, LintOptions(pg_version="16")).pg_version == 16
    plan = prepare(settings, directory, LintOptions(pg_version="15.2"))
    assert plan.context([])["pg_version"] == 15


def test_a_bad_pg_version_flag_is_exit_2(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, {})
    result = calctl("migrate", "lint", "--pg-version", "latest", cwd=root)
    assert result.returncode == 2
    assert "--pg-version must be a PostgreSQL version" in result.stderr
    result = calctl("migrate", "lint", "--pg-version", "7.4", cwd=root)
    assert result.returncode == 2
    assert "--pg-version: setting migrate.lint.pg_version must be at least 9" in result.stderr


def test_squawk_toml_is_looked_for_from_the_directory_up_to_the_root(calctl: Any,
                                                                     tmp_path: Path) -> None:
    root = _project(tmp_path / "project", {"002_a.sql": "CREATE INDEX a1 ON accounts (email);\n"})
    # above the project root: not the project's
    (tmp_path / ".squawk.toml").write_text(f'excluded_rules = ["{RULE}"]\n', encoding="utf-8")
    assert _calctl_lines(calctl, root) == [("002_a.sql", 1)]
    # in the migration directory (nearest first)
    (root / "migrations" / ".squawk.toml").write_text(f'excluded_rules = ["{RULE}"]\n',
                                                     encoding="utf-8")
    assert _calctl_lines(calctl, root) == []
