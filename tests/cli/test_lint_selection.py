"""``migrate lint``'s rule selection, as ruff selects: flags, ``[migrate.lint]``, per-file
ignores, severities and ``--exit-zero``, through the real console script."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# one file with findings of three rules: CAL003 (missing table), CAL008 (drop column),
# CAL011 (index without CONCURRENTLY on a table created elsewhere)
FILES = {
    "001_accounts.sql": "CREATE TABLE accounts (id bigint, email text, legacy text);\n",
    # the timeouts keep squawk's require-lock/statement-timeout (CAL025, CAL026) quiet
    "002_change.sql": "SET lock_timeout = '5s';\nSET statement_timeout = '5s';\n"
                      "CREATE INDEX accounts_email ON accounts (email);\n"
                      "ALTER TABLE accounts DROP COLUMN legacy;\n"
                      "INSERT INTO audit_log VALUES (1);\n",
}


def _project(root: Path, config: str = "") -> Path:
    (root / "migrations").mkdir(parents=True)
    for name, text in FILES.items():
        (root / "migrations" / name).write_text(text, encoding="utf-8")
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n' + config,
                                      encoding="utf-8")
    return root


def _codes(calctl: Any, root: Path, *args: str) -> list[str]:
    result = calctl("migrate", "lint", "--json", *args, cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return sorted(p["code"] for p in result.json()["problems"])


def test_default_selection_reports_every_rule(calctl: Any, tmp_path: Path) -> None:
    assert _codes(calctl, _project(tmp_path)) == ["CAL003", "CAL008", "CAL011"]


@pytest.mark.parametrize(("args", "expected"), [
    (["--select", "CAL011"], ["CAL011"]),
    (["--select", "CAL008,CAL011"], ["CAL008", "CAL011"]),
    (["--select", "CAL00"], ["CAL003", "CAL008"]),                   # a prefix
    (["--select", "destructive-ddl"], ["CAL008"]),                  # a rule's name
    (["--select", "require-concurrent-index-creation"], ["CAL011"]),  # squawk's name too
    (["--ignore", "CAL008", "--ignore", "missing-object"], ["CAL011"]),
    (["--select", "ALL", "--ignore", "CAL0"], []),
    # the more specific selector wins: CAL011 stays although CAL0 is ignored
    (["--ignore", "CAL0", "--select", "CAL011"], ["CAL011"]),
    (["--select", "CAL003", "--extend-select", "CAL008"], ["CAL003", "CAL008"]),
])
def test_command_line_selection(calctl: Any, tmp_path: Path, args: list[str],
                                expected: list[str]) -> None:
    assert _codes(calctl, _project(tmp_path), *args) == expected


def test_config_selection_and_the_command_line_over_it(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, '[migrate.lint]\nselect = ["ALL"]\nignore = ["CAL008"]\n'
                              'extend_select = []\n')
    assert _codes(calctl, root) == ["CAL003", "CAL011"]
    # a command-line select replaces the config's choice (its ignore included)
    assert _codes(calctl, root, "--select", "CAL008") == ["CAL008"]
    # a command-line ignore adds to it
    assert _codes(calctl, root, "--ignore", "CAL003") == ["CAL011"]


def test_per_file_ignores_are_gitignore_globs_from_the_project_root(
        calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, '[migrate.lint.per_file_ignores]\n'
                              '"migrations/002_*.sql" = ["CAL011", "destructive-ddl"]\n'
                              '"001_*.sql" = ["ALL"]\n')
    assert _codes(calctl, root) == ["CAL003"]
    root2 = _project(tmp_path / "other", '[migrate.lint.per_file_ignores]\n'
                                         '"/002_change.sql" = ["ALL"]\n')
    # anchored at the project root, where no such file is: nothing ignored
    assert _codes(calctl, root2) == ["CAL003", "CAL008", "CAL011"]


def test_severity_overrides_decide_the_exit_code(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, '[migrate.lint]\nignore = ["CAL003"]\n')
    assert calctl("migrate", "lint", cwd=root).returncode == 0  # warnings only
    (root / "calctl.toml").write_text(
        '[migrate]\ndir = "migrations"\n[migrate.lint]\nignore = ["CAL003"]\n'
        '[migrate.lint.severity]\nCAL011 = "error"\n', encoding="utf-8")
    result = calctl("migrate", "lint", "--json", cwd=root)
    assert result.returncode == 1
    severity = {p["code"]: p["severity"] for p in result.json()["problems"]}
    assert severity == {"CAL008": "warning", "CAL011": "error"}
    # --exit-zero: findings reported, exit 0
    result = calctl("migrate", "lint", "--exit-zero", cwd=root)
    assert result.returncode == 0 and "CAL011" in result.stdout


def test_an_unknown_selector_is_exit_2_naming_where(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = calctl("migrate", "lint", "--select", "CAL011,nosuch-rule", cwd=root)
    assert result.returncode == 2
    assert "--select: 'nosuch-rule' names no lint rule" in result.stderr
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n\n[migrate.lint]\n'
                                      'ignore = ["CAL9"]\n', encoding="utf-8")
    result = calctl("migrate", "lint", cwd=root)
    assert result.returncode == 2
    assert "calctl.toml:5 ([migrate.lint] ignore): 'CAL9' names no lint rule" in result.stderr


def test_an_unknown_lint_setting_is_refused_with_its_line(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path, '[migrate.lint]\nper-file-ignores = {}\n')
    result = calctl("migrate", "lint", cwd=root)
    assert result.returncode == 2
    assert "calctl.toml:4: unknown setting migrate.lint.per-file-ignores" in result.stderr
    assert "Did you mean per_file_ignores?" in result.stderr


def test_selection_changes_a_replayed_output(calctl: Any, tmp_path: Path) -> None:
    """The output cache keys on the selection: a warm run with other flags or config is
    not the last run's output."""
    root = _project(tmp_path)
    assert _codes(calctl, root) == ["CAL003", "CAL008", "CAL011"]
    assert _codes(calctl, root, "--select", "CAL008") == ["CAL008"]
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n[migrate.lint]\n'
                                      'select = ["CAL003"]\n', encoding="utf-8")
    assert _codes(calctl, root) == ["CAL003"]


def test_rules_lists_squawk_names(calctl: Any) -> None:
    result = calctl("migrate", "rules", "--json")
    assert result.returncode == 0
    rules = {r["code"]: r for r in result.json()["rules"]}
    assert rules["CAL011"]["squawk"] == ["require-concurrent-index-creation"]
    assert rules["CAL001"]["squawk"] == [] and rules["CAL001"]["default"] is True
    text = calctl("migrate", "rules", env={"COLUMNS": "250"})
    line = next(x for x in text.stdout.splitlines() if x.strip().startswith("CAL011"))
    assert "require-concurrent-index-creation" in line.split("lint", 1)[1]
