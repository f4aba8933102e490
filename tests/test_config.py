"""Settings: precedence, validation with file and line, secrets, init/show/check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calctl.config import Settings, mask_dsn
from calctl.errors import ConfigError, ExitCode


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    settings = Settings.resolve(cwd=tmp_path, env={})
    assert settings.root == tmp_path.resolve()
    assert settings.config_file is None
    assert settings.state_dir == tmp_path.resolve() / ".calctl"
    assert settings.migrate.dir == "migrations"
    assert settings.sources == {}


def test_precedence_file_env_flags(tmp_path: Path) -> None:
    write(tmp_path / "calctl.toml", '[migrate]\ndir = "db"\nlock_timeout = 5\n'
          '[patch]\nverify = ["pytest -q"]\n')
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    settings = Settings.resolve(cwd=sub, env={"CALCTL_MIGRATE_LOCK_TIMEOUT": "7.5"})
    assert settings.root == tmp_path.resolve()
    assert settings.migrate.dir == "db"
    assert settings.migrate.lock_timeout == 7.5
    assert settings.patch.verify == ("pytest -q",)
    assert settings.sources["migrate.dir"] == f"{tmp_path.resolve() / 'calctl.toml'}:2"
    assert settings.sources["migrate.lock_timeout"] == "env CALCTL_MIGRATE_LOCK_TIMEOUT"
    flagged = Settings.resolve({"migrate.dir": "other", "state_dir": "/tmp/st"}, cwd=sub,
                               env={"CALCTL_MIGRATE_DIR": "envdir"})
    assert flagged.migrate.dir == "other"
    assert flagged.sources["migrate.dir"] == "flag"
    assert flagged.state_dir == Path("/tmp/st")


def test_pyproject_tool_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml",
          '[project]\nname = "x"\n\n[tool.calctl.migrate]\nsearch_path = ["app", "public"]\n')
    settings = Settings.resolve(cwd=tmp_path, env={})
    assert settings.migrate.search_path == ("app", "public")
    assert settings.sources["migrate.search_path"].endswith("pyproject.toml:5")


def test_unknown_key_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "calctl.toml", '[migrate]\ndir = "db"\n\nsearch_paht = ["x"]\n')
    with pytest.raises(ConfigError) as info:
        Settings.resolve(cwd=tmp_path, env={})
    assert f"{tmp_path.resolve() / 'calctl.toml'}:4" in info.value.message
    assert "migrate.search_paht" in info.value.message
    assert "search_path" in info.value.hint


def test_unknown_section(tmp_path: Path) -> None:
    write(tmp_path / "calctl.toml", 'migrat = 1\n')
    with pytest.raises(ConfigError, match=r"calctl.toml:1: unknown setting migrat"):
        Settings.resolve(cwd=tmp_path, env={})


def test_wrong_type_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "calctl.toml", '[patch]\n\nverify_timeout = "soon"\n')
    with pytest.raises(ConfigError, match=r"calctl.toml:3: setting patch.verify_timeout must be"
                       r" a number"):
        Settings.resolve(cwd=tmp_path, env={})


def test_wrong_type_from_environment(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    with pytest.raises(ConfigError, match="environment variable CALCTL_PATCH_ALLOW_PROTECTED"):
        Settings.resolve(cwd=tmp_path, env={"CALCTL_PATCH_ALLOW_PROTECTED": "maybe"})


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    write(tmp_path / "calctl.toml", '[migrate]\ndir = migrations\n')
    with pytest.raises(ConfigError, match=r"TOML syntax error: .*line 2"):
        Settings.resolve(cwd=tmp_path, env={})


@pytest.mark.parametrize("text", [
    '[openai]\napi_key = "abc"\n',
    '[openai]\nmodel = "sk-abcdefghijklmnopqrstuvwxyz012345"\n',
    'store_url = "postgresql://app:hunter2@db.example/app"\n',
    '[github]\ntoken = "ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"\n',
])
def test_literal_secret_is_refused(tmp_path: Path, text: str) -> None:
    write(tmp_path / "calctl.toml", text)
    with pytest.raises(ConfigError) as info:
        Settings.resolve(cwd=tmp_path, env={})
    assert "holds a secret literally" in info.value.message
    assert "calctl.toml:" in info.value.message
    assert "hunter2" not in info.value.message


def test_world_writable_config_is_read_but_untrusted(tmp_path: Path) -> None:
    path = write(tmp_path / "calctl.toml", '[migrate]\ndir = "db"\n')
    path.chmod(0o666)
    settings = Settings.resolve(cwd=tmp_path, env={})
    assert settings.migrate.dir == "db"
    assert "writable by group or others (mode 666)" in settings.config_untrusted
    with pytest.raises(ConfigError, match="writable by group or others") as info:
        settings.require_trusted_config("run its commands")
    assert info.value.code == "config-untrusted" and "--trust-config" in info.value.hint
    Settings.resolve(cwd=tmp_path, env={"CALCTL_TRUST_CONFIG": "1"}).require_trusted_config(
        "run its commands")
    Settings.resolve({"trust_config": True}, cwd=tmp_path, env={}).require_trusted_config(
        "run its commands")
    path.chmod(0o644)
    Settings.resolve(cwd=tmp_path, env={}).require_trusted_config("run its commands")


def test_secret_is_read_from_named_environment_variable() -> None:
    from calctl.config import secret

    assert secret("MY_KEY", {"MY_KEY": "s3"}) == "s3"
    assert secret("MY_KEY", {}) is None


def test_mask_dsn() -> None:
    assert mask_dsn("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert mask_dsn("host=h password=pw dbname=d") == "host=h password=*** dbname=d"
    assert mask_dsn("postgresql://u@h/d") == "postgresql://u@h/d"
    # a raw "@" in the password: everything up to the last "@" before the host
    assert mask_dsn("postgresql://u:p@ssPW@h/d") == "postgresql://u:***@h/d"
    assert mask_dsn("x 'postgresql://u:a@b/c@h:1/d?sslmode=require' y") == \
        "x 'postgresql://u:***@h:1/d?sslmode=require' y"
    assert mask_dsn("host=h password='p w' dbname=d") == "host=h password=*** dbname=d"
    # an "@" in the query is no user part
    assert mask_dsn("http://h:8000/health?to=ops@example.com") == \
        "http://h:8000/health?to=ops@example.com"


def test_init_show_check(calctl, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    first = calctl("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "calctl.toml").is_file()
    assert (tmp_path / ".calctl" / "locks").is_dir()
    again = calctl("init", cwd=tmp_path)
    assert again.returncode == ExitCode.USAGE
    assert "already exists" in again.stderr and "--force" in again.stderr
    assert calctl("init", "--force", cwd=tmp_path).returncode == 0

    check = calctl("config", "check", cwd=tmp_path)
    assert check.returncode == 0, check.stderr
    shown = calctl("config", "show", "--json", cwd=tmp_path,
                   env={"CALCTL_STORE_URL": "postgresql://u:topsecret@127.0.0.1:1/x"})
    doc = shown.json()
    assert doc["kind"] == "config"
    lines = (tmp_path / "calctl.toml").read_text().splitlines()
    line = lines.index('dir = "migrations"               # where the *.sql migrations live') + 1
    assert doc["settings"]["migrate.dir"]["source"].endswith(f"calctl.toml:{line}")
    assert doc["settings"]["store_url"]["value"] == "postgresql://u:***@127.0.0.1:1/x"
    assert "topsecret" not in shown.stdout


def test_config_check_exit_2_on_bad_config(calctl, tmp_path: Path) -> None:
    write(tmp_path / "calctl.toml", '[migrate]\ndirr = "x"\n')
    result = calctl("config", "check", "--json", cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE
    doc = json.loads(result.stdout)
    assert doc["kind"] == "error" and doc["code"] == "config-unknown-key"
    assert "calctl.toml:2" in doc["message"]
    assert "Traceback" not in result.stderr


def test_unknown_table_names_its_header_line(tmp_path: Path) -> None:
    write(tmp_path / "calctl.toml", '[migrate]\ndir = "db"\n\n[bogus]\nx = 1\n')
    with pytest.raises(ConfigError, match=r"calctl.toml:4: unknown setting bogus"):
        Settings.resolve(cwd=tmp_path, env={})
