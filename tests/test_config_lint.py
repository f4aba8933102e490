"""``[migrate.lint]``: a table inside ``[migrate]``, read from calctl.toml, pyproject.toml
and CALCTL_MIGRATE_LINT_* like every section, its values checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from calctl.config import LintSettings, Settings
from calctl.errors import ConfigError


def _settings(root: Path, text: str, env: dict[str, str] | None = None,
              name: str = "calctl.toml") -> Settings:
    (root / name).write_text(text, encoding="utf-8")
    return Settings.resolve({}, cwd=root, env=env or {})


def test_the_section_and_its_sources(tmp_path: Path) -> None:
    settings = _settings(tmp_path, '[migrate]\ndir = "db"\n\n[migrate.lint]\n'
                                   'select = ["ALL"]\nignore = ["CAL008"]\npg_version = "13.0"\n'
                                   '[migrate.lint.per_file_ignores]\n"old/*.sql" = "CAL011"\n'
                                   '"x.sql" = ["CAL001", "CAL002"]\n'
                                   '[migrate.lint.severity]\nCAL011 = "error"\n')
    assert settings.migrate.dir == "db"
    assert settings.lint == LintSettings(
        select=("ALL",), ignore=("CAL008",), pg_version=13,
        per_file_ignores={"old/*.sql": ("CAL011",), "x.sql": ("CAL001", "CAL002")},
        severity={"CAL011": "error"})
    assert settings.sources["migrate.lint.select"].endswith("calctl.toml:5")
    keys = [key for key, _, _ in settings.items()]
    assert "migrate.lint.per_file_ignores" in keys and "migrate.dir" in keys


def test_pyproject_and_the_environment(tmp_path: Path) -> None:
    settings = _settings(tmp_path, '[tool.calctl.migrate.lint]\nextend_select = ["CAL0"]\n',
                         env={"CALCTL_MIGRATE_LINT_IGNORE": "CAL003,CAL004",
                              "CALCTL_MIGRATE_LINT_PG_VERSION": "9.6"},
                         name="pyproject.toml")
    assert settings.lint.extend_select == ("CAL0",)
    assert settings.lint.ignore == ("CAL003", "CAL004")
    assert settings.lint.pg_version == 9
    assert settings.sources["migrate.lint.ignore"] == "env CALCTL_MIGRATE_LINT_IGNORE"


@pytest.mark.parametrize(("text", "message"), [
    ("[migrate.lint]\nselekt = []\n", "calctl.toml:2: unknown setting migrate.lint.selekt"),
    ("[migrate.lint]\npg_version = \"new\"\n", "setting migrate.lint.pg_version must be a "
                                               "PostgreSQL version"),
    ("[migrate.lint]\npg_version = 3\n", "must be at least 9"),
    ("[migrate.lint.severity]\nCAL001 = \"fatal\"\n", "migrate.lint.severity.CAL001 must be "
                                                     "one of error, warning, info"),
    ("[migrate.lint]\nper_file_ignores = {\"x\" = 1}\n", "must be a list of strings"),
    ("[migrate]\nlint = 5\n", "migrate.lint must be a table"),
])
def test_bad_values_name_the_setting(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _settings(tmp_path, text)
    assert message in caught.value.message
