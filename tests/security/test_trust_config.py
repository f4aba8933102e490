"""Whose config calctl trusts, secrets in config, and config bounds — attacked for real.

Real files with real owners and modes, the real ``calctl`` entry point in a fresh
process each time, real PostgreSQL where a database is involved. Owner checks need
root to chown a file to ``nobody``: CI runs as root, so there they fail, never skip.
"""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from calctl.errors import ExitCode

PATCH = {"kind": "patch", "version": 1, "description": "harmless edit",
         "edits": [{"op": "replace", "path": "app.txt", "search": "hello", "replace": "bye"}]}


def nobody() -> int:
    if os.geteuid() != 0:
        pytest.fail("this test chowns a file to another user: run it as root (CI does)")
    return pwd.getpwnam("nobody").pw_uid


@pytest.fixture
def umask0() -> Iterator[None]:
    """GitLab's checkout: umask 0, so files 666 and directories 777 (calctl runs in it)."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def hostile_project(base: Path, marker: Path, *, extra: str = "") -> tuple[Path, Path]:
    """A world-writable directory with no project markers, holding a calctl.toml whose
    [patch] verify would leave ``marker`` (outside the project); calctl is run in a
    subdirectory of it. Returns (config, working directory)."""
    shared = base / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    config = shared / "calctl.toml"
    config.write_text(f'{extra}[patch]\nverify = ["touch {marker}"]\n', encoding="utf-8")
    work = shared / "work"
    work.mkdir()
    (work / "app.txt").write_text("hello\n", encoding="utf-8")
    (work / "patch.json").write_text(json.dumps(
        {**PATCH, "edits": [{**PATCH["edits"][0], "path": "work/app.txt"}]}), encoding="utf-8")
    return config, work


# ------------------------------------------------------------- item 3: trust by owner


def test_config_owned_by_another_user_never_runs_its_verify(calctl, tmp_path: Path) -> None:
    uid = nobody()
    marker = tmp_path / "ran-as-root"
    config, work = hostile_project(tmp_path, marker)
    os.chown(config, uid, -1)

    refused = calctl("patch", "apply", "--json", "patch.json", cwd=work)
    assert refused.returncode == ExitCode.USAGE, refused.stderr
    doc = refused.json()
    assert doc["code"] == "config-untrusted"
    assert str(config) in doc["message"] and "nobody" in doc["message"]
    assert "--trust-config" in doc["hint"] and "CALCTL_TRUST_CONFIG=1" in doc["hint"]
    assert not marker.exists()  # the verify command never ran
    assert (work / "app.txt").read_text() == "hello\n"  # and nothing was written

    trusted = calctl("--trust-config", "patch", "apply", "patch.json", cwd=work)
    assert trusted.returncode == 0, trusted.stderr
    assert marker.exists()
    assert (work / "app.txt").read_text() == "bye\n"


def test_env_override_trusts_the_config(calctl, tmp_path: Path) -> None:
    uid = nobody()
    marker = tmp_path / "ran"
    config, work = hostile_project(tmp_path, marker)
    os.chown(config, uid, -1)
    result = calctl("patch", "apply", "patch.json", cwd=work, env={"CALCTL_TRUST_CONFIG": "1"})
    assert result.returncode == 0, result.stderr
    assert marker.exists()


def test_config_writable_by_others_never_runs_its_verify(calctl, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    config, work = hostile_project(tmp_path, marker)
    config.chmod(0o666)  # ours, but anyone could have written the verify command
    refused = calctl("patch", "apply", "patch.json", cwd=work)
    assert refused.returncode == ExitCode.USAGE
    assert "writable by group or others (mode 666)" in refused.stderr
    assert "--trust-config" in refused.stderr
    assert not marker.exists()
    assert (work / "app.txt").read_text() == "hello\n"


def test_config_in_a_directory_others_may_write_is_untrusted(calctl, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    config, work = hostile_project(tmp_path, marker)
    config.chmod(0o644)  # the file is fine; its directory (777, not sticky) is not
    refused = calctl("patch", "apply", "patch.json", cwd=work)
    assert refused.returncode == ExitCode.USAGE
    assert "its directory" in refused.stderr and "writable by group or others" in refused.stderr
    assert not marker.exists()


def test_untrusted_config_may_not_lift_protection(calctl, tmp_path: Path) -> None:
    config, work = hostile_project(tmp_path, tmp_path / "unused",
                                   extra="")
    config.write_text("[patch]\nallow_protected = true\n", encoding="utf-8")
    config.chmod(0o666)
    refused = calctl("patch", "apply", "--no-verify", "patch.json", cwd=work)
    assert refused.returncode == ExitCode.USAGE
    assert "allow_protected" in refused.stderr
    assert (work / "app.txt").read_text() == "hello\n"


def test_verify_given_on_the_command_line_needs_no_trust(calctl, tmp_path: Path) -> None:
    """The user's own --verify replaces the config's: nothing of the config runs."""
    marker, mine = tmp_path / "config-ran", tmp_path / "mine-ran"
    config, work = hostile_project(tmp_path, marker)
    config.chmod(0o666)
    result = calctl("patch", "apply", "--verify", f"touch {mine}", "patch.json", cwd=work)
    assert result.returncode == 0, result.stderr
    assert mine.exists() and not marker.exists()


def test_reading_commands_work_on_a_gitlab_checkout(calctl, tmp_path: Path, umask0: None,
                                                    pg_url: str) -> None:
    checkout = tmp_path / "builds" / "group" / "project"
    checkout.mkdir(parents=True)
    (checkout / ".git").mkdir()
    (checkout / "migrations").mkdir()
    (checkout / "migrations" / "001_a.sql").write_text("create table a (id int);\n")
    (checkout / "migrations" / "002_b.sql").write_text(
        "create table b (id int references a);\n")
    config = checkout / "calctl.toml"
    config.write_text('[migrate]\ndir = "migrations"\n[patch]\nverify = ["true"]\n')
    assert stat.S_IMODE(config.stat().st_mode) == 0o666
    assert stat.S_IMODE(checkout.stat().st_mode) == 0o777
    sub = checkout / "migrations"  # from a subdirectory too

    for args in (("migrate", "order"), ("migrate", "lint"), ("migrate", "rules"),
                 ("config", "show"), ("config", "check"), ("events",), ("history",),
                 ("patch", "list")):
        result = calctl(*args, cwd=sub)
        assert result.returncode == 0, (args, result.stderr)
        if args != ("migrate", "rules"):  # the one that reads no settings
            assert "not trusted" in result.stderr  # a warning, not a refusal
    status = calctl("migrate", "status", "--database-url", pg_url, cwd=checkout)
    assert status.returncode == 0, status.stderr
    shown = calctl("config", "show", "--json", cwd=checkout)
    assert shown.json()["settings"]["config_file"]["value"] == str(config)
    quiet = calctl("-q", "migrate", "order", cwd=checkout)
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_planted_config_in_a_shared_scratch_dir_is_not_found(calctl, tmp_path: Path) -> None:
    """/tmp/calctl.toml left by another user must not become the config of /tmp/x."""
    uid = nobody()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    scratch.chmod(0o1777)  # like /tmp: world-writable, sticky
    marker = tmp_path / "ran"
    planted = scratch / "calctl.toml"
    planted.write_text(f'state_dir = "{tmp_path / "planted-state"}"\n'
                       f'[patch]\nverify = ["touch {marker}"]\n')
    os.chown(planted, uid, -1)
    work = scratch / "x"
    work.mkdir()
    (work / "app.txt").write_text("hello\n")
    (work / "patch.json").write_text(json.dumps(PATCH))

    shown = calctl("config", "show", "--json", cwd=work)
    assert shown.returncode == 0, shown.stderr
    settings = shown.json()["settings"]
    assert settings["config_file"]["value"] is None
    assert settings["root"]["value"] == str(work)
    applied = calctl("patch", "apply", "patch.json", cwd=work)
    assert applied.returncode == 0, applied.stderr
    assert not marker.exists()
    assert not (tmp_path / "planted-state").exists()
    assert (work / ".calctl").is_dir()

    # a calctl.toml of our own in such a directory is still ours to use
    mine = tmp_path / "tmp2"
    mine.mkdir()
    mine.chmod(0o1777)
    (mine / "calctl.toml").write_text('[migrate]\ndir = "db"\n')
    (mine / "x").mkdir()
    own = calctl("config", "show", "--json", cwd=mine / "x")
    assert own.json()["settings"]["migrate.dir"]["value"] == "db"


def test_untrusted_config_cannot_send_state_outside_the_project(calctl,
                                                                tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    elsewhere = tmp_path / "elsewhere"
    config = project / "calctl.toml"
    config.write_text(f'state_dir = "{elsewhere}"\n')
    config.chmod(0o666)
    refused = calctl("migrate", "order", "--json", cwd=project)
    assert refused.returncode == ExitCode.USAGE
    doc = refused.json()
    assert doc["code"] == "config-untrusted" and f"{config}:1" in doc["message"]
    assert not elsewhere.exists()
    # inside the project it may choose one (what calctl reads back is sealed anyway)
    config.write_text('state_dir = "build/state"\n')
    config.chmod(0o666)
    inside = calctl("patch", "list", cwd=project)
    assert inside.returncode == 0, inside.stderr
    assert (project / "build" / "state").is_dir()
    # and the user may vouch for it
    config.write_text(f'state_dir = "{elsewhere}"\n')
    config.chmod(0o666)
    assert calctl("--trust-config", "patch", "list", cwd=project).returncode == 0
    assert elsewhere.is_dir()


def test_cloned_trusted_config_cannot_send_state_outside_the_project(calctl,
                                                                     tmp_path: Path) -> None:
    """A cloned repository's calctl.toml is ours (we own the clone) yet chosen by others:
    its state_dir must still resolve inside the project; the user's own flag may not."""
    project = tmp_path / "clone"
    project.mkdir()
    (project / ".git").mkdir()
    elsewhere = tmp_path / "anywhere"
    config = project / "calctl.toml"
    config.write_text(f'state_dir = "{elsewhere}"\n')
    config.chmod(0o644)
    (project / "migrations").mkdir()
    (project / "migrations" / "001.sql").write_text("CREATE TABLE t (id int);\n")
    for args in (("migrate", "order", "--json"), ("patch", "list", "--json"),
                 ("config", "show", "--json")):
        refused = calctl(*args, cwd=project)
        assert refused.returncode == ExitCode.USAGE, refused.stdout + refused.stderr
        doc = refused.json()
        assert doc["code"] == "config-untrusted" and f"{config}:1" in doc["message"]
        assert "outside the project" in doc["message"]
    assert not elsewhere.exists()
    # a relative path leaving the project through .. is the same
    config.write_text('state_dir = "../anywhere"\n')
    assert calctl("patch", "list", cwd=project).returncode == ExitCode.USAGE
    assert not elsewhere.exists()
    # the user's own flag and environment variable choose freely, and so does trust
    assert calctl("--state-dir", str(tmp_path / "mine"), "patch", "list",
                  cwd=project).returncode == 0
    assert (tmp_path / "mine").is_dir()
    assert calctl("patch", "list", cwd=project,
                  env={"CALCTL_STATE_DIR": str(tmp_path / "env")}).returncode == 0
    assert (tmp_path / "env").is_dir()
    assert calctl("patch", "list", cwd=project,
                  env={"CALCTL_TRUST_CONFIG": "1"}).returncode == 0
    assert elsewhere.is_dir()


def test_untrusted_config_cannot_point_migrations_outside_the_project(
        calctl, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "credentials.sql").write_text("-- password = TopSecretM6\nSELECT 1;\n")
    project = tmp_path / "project"
    project.mkdir()
    (project / ".git").mkdir()
    config = project / "calctl.toml"
    config.write_text('[migrate]\ndir = "../secret"\n')
    config.chmod(0o666)  # GitLab's umask-0 checkout: untrusted
    for command in ("order", "verify", "lint"):
        refused = calctl("migrate", command, "--json", cwd=project)
        assert refused.returncode == ExitCode.USAGE, refused.stdout + refused.stderr
        assert refused.json()["code"] == "config-untrusted"
        assert "TopSecretM6" not in refused.stdout + refused.stderr
        assert "[migrate] dir" in refused.json()["message"]
    # the user vouching for it reads it
    assert calctl("--trust-config", "migrate", "order", cwd=project).returncode == 0
    # inside the project an untrusted config still chooses
    (project / "db").mkdir()
    (project / "db" / "001.sql").write_text("SELECT 1;\n")
    config.write_text('[migrate]\ndir = "db"\n')
    config.chmod(0o666)
    assert calctl("migrate", "order", cwd=project).returncode == 0


# ------------------------------------------------------------- item 12: secrets


@pytest.mark.parametrize(("text", "key", "line"), [
    ('[patch]\nverify = ["pytest -q", "psql postgresql://u:hunter2PW@h/db"]\n',
     "patch.verify[1]", 2),
    ('[migrate]\ndefines = {DbUrl = "postgresql://u:hunter2PW@h/db"}\n',
     "migrate.defines.DbUrl", 2),
    ('[migrate.defines]\nNs = "app"\nDbUrl = "postgresql://u:p@sshunter2PW@h/db"\n',
     "migrate.defines.DbUrl", 3),
    ('database_url = "postgresql://u:p@sshunter2PW@h/db"\n', "database_url", 1),
    ('[guard]\nchecks = [\n  {name = "api", type = "http", '
     'url = "http://admin:hunter2PW@127.0.0.1/health"},\n]\n', "guard.checks[0].url", 3),
    ("[patch]\nverify = [\"psql 'host=h password=hunter2PW'\"]\n", "patch.verify[0]", 2),
    ('[migrate]\ndefines = {ApiToken = "hunter2PW"}\n', "migrate.defines.ApiToken", 2),
])
def test_secret_anywhere_in_config_is_refused(calctl, tmp_path: Path, text: str, key: str,
                                              line: int) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "calctl.toml").write_text(text)
    for args in (("config", "check", "--json"), ("config", "show", "--json")):
        result = calctl(*args, cwd=tmp_path)
        assert result.returncode == ExitCode.USAGE, result.stdout
        doc = result.json()
        assert doc["code"] == "config-secret"
        assert f"calctl.toml:{line}: setting {key} holds a secret literally" in doc["message"]
        assert "hunter2PW" not in result.stdout + result.stderr


def test_config_show_masks_passwords_with_a_raw_at(calctl, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    env = {"CALCTL_STORE_URL": "postgresql://u:p@ssPW@127.0.0.1:1/db",
           "CALCTL_PATCH_VERIFY": "psql postgresql://u:p@ssPW@h/db",
           "CALCTL_MIGRATE_DATABASE_URL": "postgresql://u:p@ssPW@h/db"}
    shown = calctl("config", "show", "--json", cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    settings = shown.json()["settings"]
    assert settings["store_url"]["value"] == "postgresql://u:***@127.0.0.1:1/db"
    assert settings["patch.verify"]["value"] == ["psql postgresql://u:***@h/db"]
    assert "ssPW" not in shown.stdout
    table = calctl("config", "show", cwd=tmp_path, env=env)
    assert table.returncode == 0 and "ssPW" not in table.stdout + table.stderr


def _leaks(root: Path, secret: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and secret in p.read_bytes()]


def test_password_with_raw_at_leaks_nowhere(calctl, tmp_path: Path) -> None:
    url = "postgresql://u:p@ssPW@127.0.0.1:1/db"
    project = tmp_path / "project"
    (project / "migrations").mkdir(parents=True)
    (project / ".git").mkdir()
    (project / "migrations" / "001_a.sql").write_text("create table a (id int);\n")
    (project / "patch.json").write_text(json.dumps(
        {**PATCH, "edits": [{"op": "replace", "path": "migrations/001_a.sql",
                             "search": "a (id", "replace": "b (id"}]}))

    outputs = []
    # the application database: migrate cannot connect (exit 4)
    for args in (("migrate", "apply", "--database-url", url),
                 ("--json", "migrate", "apply", "--database-url", url),
                 ("migrate", "status", "--json", "--database-url", url)):
        result = calctl(*args, cwd=project)
        assert result.returncode == ExitCode.EXTERNAL, result.stderr
        assert "127.0.0.1:1/db" in result.stderr
        outputs.append(result.stdout + result.stderr)
    # the audit store itself (global --store-url)
    store = calctl("--store-url", url, "--json", "patch", "list", cwd=project)
    assert store.returncode == ExitCode.EXTERNAL
    outputs.append(store.stdout + store.stderr)
    # a patch refused because that database is unreachable: recorded in events and store
    refused = calctl("patch", "apply", "--no-verify", "--json", "patch.json", cwd=project,
                     env={"DATABASE_URL": url})
    assert refused.returncode == ExitCode.FINDINGS, refused.stderr
    assert "database unavailable" in refused.stdout
    outputs.append(refused.stdout + refused.stderr)

    for text in outputs:
        assert "ssPW" not in text, text
    events = (project / ".calctl" / "events.jsonl").read_text()
    assert "patch.refused" in events and "database unavailable" in events
    db = sqlite3.connect(project / ".calctl" / "calctl.db")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        dump = {t: db.execute(f'SELECT * FROM "{t}"').fetchall() for t in tables}
    finally:
        db.close()
    assert any("database unavailable" in str(row) for row in dump["calctl_events"])
    assert "ssPW" not in str(dump)
    assert _leaks(project, b"ssPW") == []


# ------------------------------------------------------------- item 11: bounds


@pytest.mark.parametrize(("text", "line", "key"), [
    ("[migrate]\nlock_timeout = -5\n", 2, "migrate.lock_timeout"),
    ("[patch]\n\nverify_timeout = 0\n", 3, "patch.verify_timeout"),
    ("[patch]\nverify_timeout = nan\n", 2, "patch.verify_timeout"),
    ("[patch]\nlock_timeout = inf\n", 2, "patch.lock_timeout"),
    ("[patch]\nmax_edit_bytes = 0\n", 2, "patch.max_edit_bytes"),
    ("[patch]\nmax_file_bytes = 9223372036854775807\n", 2, "patch.max_file_bytes"),
    ("[report]\ncontext_lines = -1\n", 2, "report.context_lines"),
    ("[openai]\nmax_retries = -3\n", 2, "openai.max_retries"),
    ("[github]\ntimeout = 0\n", 2, "github.timeout"),
    ("[guard]\ninterval = -60\n", 2, "guard.interval"),
    ("[heal]\nbudget_per_hour = -1\n", 2, "heal.budget_per_hour"),
    ("[dashboard]\nport = 70000\n", 2, "dashboard.port"),
])
def test_out_of_range_setting_is_refused(calctl, tmp_path: Path, text: str, line: int,
                                         key: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "calctl.toml").write_text(text)
    result = calctl("config", "check", "--json", cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE, result.stdout
    doc = result.json()
    assert doc["code"] == "config-range"
    assert f"calctl.toml:{line}: setting {key} must be" in doc["message"]
    assert "Traceback" not in result.stderr


def test_out_of_range_from_environment_is_refused(calctl, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    result = calctl("config", "check", cwd=tmp_path,
                    env={"CALCTL_PATCH_VERIFY_TIMEOUT": "0"})
    assert result.returncode == ExitCode.USAGE
    assert "environment variable CALCTL_PATCH_VERIFY_TIMEOUT" in result.stderr
    ok = calctl("config", "check", cwd=tmp_path, env={"CALCTL_MIGRATE_LOCK_TIMEOUT": "0"})
    assert ok.returncode == 0, ok.stderr  # 0 = try the lock once, do not wait


def test_out_of_range_flags_are_refused_before_anything_runs(calctl, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "app.txt").write_text("hello\n")
    (tmp_path / "patch.json").write_text(json.dumps(PATCH))
    marker = tmp_path / "ran"
    for flag, value in (("--verify-timeout", "-3"), ("--verify-timeout", "0"),
                        ("--lock-timeout", "nan")):
        result = calctl("patch", "apply", "--json", flag, value, "--verify", f"touch {marker}",
                        "patch.json", cwd=tmp_path)
        assert result.returncode == ExitCode.USAGE, result.stdout
        assert result.json()["code"] == "config-range" and flag in result.json()["message"]
    assert not marker.exists() and (tmp_path / "app.txt").read_text() == "hello\n"
    migrate = calctl("migrate", "apply", "--lock-timeout", "-5", "--database-url",
                     "postgresql://nobody@127.0.0.1:1/db", cwd=tmp_path)
    assert migrate.returncode == ExitCode.USAGE  # refused before connecting (that is exit 4)
    assert "--lock-timeout: setting migrate.lock_timeout must be at least 0" in migrate.stderr


def test_config_check_reports_trust(calctl, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    config = tmp_path / "calctl.toml"
    config.write_text('[migrate]\ndir = "db"\n')
    config.chmod(0o644)
    assert calctl("config", "check", "--json", cwd=tmp_path).json()["trusted"] is True
    config.chmod(0o664)
    doc = calctl("config", "check", "--json", cwd=tmp_path).json()
    assert doc["trusted"] is False and "mode 664" in doc["untrusted_reason"]
    vouched = calctl("--trust-config", "config", "check", "--json", cwd=tmp_path)
    assert vouched.json()["trusted"] is True and "warning" not in vouched.stderr


@pytest.mark.parametrize("password", ["p@ssPWX", "p@ss:PWX", "p@ss/PWX", "pa/PWX",
                                      "p@ss?PWX", "PWX:x", "a@b@PWX"])
def test_awkward_passwords_are_masked_in_errors_and_config_show(calctl, tmp_path: Path,
                                                                 password: str) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_a.sql").write_text("create table a (id int);\n")
    url = f"postgresql://u:{password}@127.0.0.1:1/db"
    failed = calctl("migrate", "status", "--json", "--database-url", url, cwd=tmp_path)
    assert failed.returncode == ExitCode.EXTERNAL, failed.stderr
    assert "127.0.0.1:1/db" in failed.stdout  # the target, named without the password
    shown = calctl("--store-url", url, "config", "show", "--json", cwd=tmp_path)
    assert shown.json()["settings"]["store_url"]["value"] == \
        "postgresql://u:***@127.0.0.1:1/db"
    for text in (failed.stdout, failed.stderr, shown.stdout, shown.stderr):
        assert "PWX" not in text and "'ss'" not in text, text


def test_urls_without_a_password_are_no_secret(calctl, tmp_path: Path) -> None:
    """An "@" in a path or query, or a user name alone, is not refused nor masked."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "calctl.toml").write_text(
        'store_url = "postgresql://calctl@db.example/calctl"\n'
        '[guard]\nchecks = [{name = "api", type = "http", '
        'url = "http://127.0.0.1:8000/health?notify=ops@example.com"}]\n')
    shown = calctl("config", "show", "--json", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    settings = shown.json()["settings"]
    assert settings["store_url"]["value"] == "postgresql://calctl@db.example/calctl"
    assert settings["guard.checks"]["value"][0]["url"].endswith("?notify=ops@example.com")
