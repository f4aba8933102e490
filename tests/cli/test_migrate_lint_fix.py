"""``migrate lint --fix`` / ``--diff`` through the real console script, in real git
repositories (and a real PostgreSQL target): the rules' fixes go through the patch engine,
and never reach a migration a database may have run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from support import assert_valid_sarif, write

ACCOUNTS = "CREATE TABLE accounts (id int PRIMARY KEY, email text);\n"
# these tests are about CAL011's fix: squawk's other rules (CAL012-CAL050) stay out
CONFIG = ('[migrate]\ndir = "db/migrations"\n'
          '[migrate.lint]\nselect = ["CAL00", "CAL010", "CAL011"]\n')
OLD_INDEX = "CREATE INDEX accounts_id ON accounts (id);\n"
NEW_INDEX = ("-- look accounts up by email\n"
             "CREATE INDEX accounts_email ON accounts (email);\n"
             "CREATE UNIQUE INDEX accounts_lower ON accounts (lower(email));\n")
FIXED_INDEX = ("-- calctl: no-transaction\n"
               "-- look accounts up by email\n"
               "CREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n"
               "CREATE UNIQUE INDEX CONCURRENTLY accounts_lower ON accounts (lower(email));\n")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def _committed_project(repo: Path, verify: str = "") -> Path:
    """db/migrations with V1 (a table) and V2 (an index on it) committed."""
    write(repo / "calctl.toml", CONFIG + verify)
    write(repo / ".gitignore", ".calctl/\n")
    write(repo / "db" / "migrations" / "V1__accounts.sql", ACCOUNTS)
    write(repo / "db" / "migrations" / "V2__accounts_id.sql", OLD_INDEX)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "migrations")
    return repo / "db" / "migrations"


def test_fix_changes_only_what_git_has_not_committed(calctl: Any, git_repo: Path) -> None:
    migrations = _committed_project(git_repo)
    new = write(migrations / "V3__accounts email.sql", NEW_INDEX)
    result = calctl("migrate", "lint", "--fix", cwd=git_repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert new.read_text(encoding="utf-8") == FIXED_INDEX
    assert (migrations / "V2__accounts_id.sql").read_text(encoding="utf-8") == OLD_INDEX
    out = result.stdout
    assert "fixed CAL011 db/migrations/V3__accounts email.sql:2:1: Add CONCURRENTLY." in out
    assert "fixed CAL011 db/migrations/V3__accounts email.sql:3:1: Add CONCURRENTLY." in out
    assert ("not fixed CAL011 db/migrations/V2__accounts_id.sql:1:1: committed in git: a "
            "database may have applied it already; pass --force") in out
    # the problems left are printed after the fix: the committed file's only
    assert "warning CAL011 db/migrations/V2__accounts_id.sql:1:1" in out
    assert "V3__accounts email.sql:2:1  CREATE INDEX" not in out
    assert "1 warning" in out
    # a staged change counts as uncommitted too; the patch is the engine's, undone by it
    write(migrations / "V2__accounts_id.sql", "-- reviewed\n" + OLD_INDEX)
    _git(git_repo, "add", "db/migrations/V2__accounts_id.sql")
    document = calctl("migrate", "lint", "--fix", "--json", cwd=git_repo)
    assert document.returncode == 0, document.stderr
    doc = document.json()
    assert doc["kind"] == "migration-lint-fix" and doc["applied"] is True
    assert [(f["path"], f["line"]) for f in doc["fixed"]] == [("V2__accounts_id.sql", 2)]
    assert doc["skipped"] == [] and doc["report"]["problems"] == []
    assert doc["patch"]["kind"] == "patch"
    assert "b/db/migrations/V2__accounts_id.sql" in doc["patch"]["diff"]
    assert doc["result"]["kind"] == "patch-result" and doc["result"]["status"] == "applied"
    assert (migrations / "V2__accounts_id.sql").read_text(encoding="utf-8") == (
        "-- calctl: no-transaction\n-- reviewed\n"
        "CREATE INDEX CONCURRENTLY accounts_id ON accounts (id);\n")
    undo = calctl("patch", "rollback", doc["result"]["patch_id"], cwd=git_repo)
    assert undo.returncode == 0, undo.stdout + undo.stderr
    assert (migrations / "V2__accounts_id.sql").read_text(encoding="utf-8") == \
        "-- reviewed\n" + OLD_INDEX


def test_force_and_diff(calctl: Any, git_repo: Path) -> None:
    migrations = _committed_project(git_repo)
    old = migrations / "V2__accounts_id.sql"
    alone = calctl("migrate", "lint", "--force", cwd=git_repo)
    assert alone.returncode == 2 and "--force only goes with --fix" in alone.stderr
    diff = calctl("migrate", "lint", "--diff", "--force", cwd=git_repo)
    assert diff.returncode == 1  # there is something to fix, as ruff --diff says
    assert "+++ b/db/migrations/V2__accounts_id.sql" in diff.stdout
    assert "+CREATE INDEX CONCURRENTLY accounts_id ON accounts (id);" in diff.stdout
    assert "would fix CAL011 db/migrations/V2__accounts_id.sql:1:1" in diff.stdout
    assert old.read_text(encoding="utf-8") == OLD_INDEX  # --diff changes nothing
    as_json = calctl("migrate", "lint", "--diff", "--force", "--json", cwd=git_repo).json()
    assert as_json["applied"] is False and as_json["result"] is None
    # its patch is a patch document `patch apply` takes as it is
    applied = calctl("patch", "apply", "-", "--json", cwd=git_repo,
                     input=json.dumps(as_json["patch"]))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "CONCURRENTLY" in old.read_text(encoding="utf-8")
    _git(git_repo, "checkout", "--", "db/migrations/V2__accounts_id.sql")
    forced = calctl("migrate", "lint", "--fix", "--force", cwd=git_repo)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert old.read_text(encoding="utf-8") == (
        "-- calctl: no-transaction\nCREATE INDEX CONCURRENTLY accounts_id ON accounts (id);\n")
    assert "0 warnings" in forced.stdout


def test_fix_rolls_back_when_verification_fails(calctl: Any, git_repo: Path) -> None:
    migrations = _committed_project(
        git_repo, '[patch]\nverify = ["python3 -c \\"raise SystemExit(3)\\""]\n')
    new = write(migrations / "V3__accounts_email.sql", NEW_INDEX)
    result = calctl("migrate", "lint", "--fix", "--json", cwd=git_repo)
    assert result.returncode == 1, result.stdout + result.stderr
    doc = result.json()
    assert doc["applied"] is False and doc["result"]["status"] == "rolled_back"
    assert new.read_bytes() == NEW_INDEX.encode()  # byte for byte
    assert {p["path"] for p in doc["report"]["problems"]} == {"V2__accounts_id.sql",
                                                               "V3__accounts_email.sql"}
    text = calctl("migrate", "lint", "--fix", cwd=git_repo)
    assert text.returncode == 1
    assert "not fixed CAL011 db/migrations/V3__accounts_email.sql:2:1" in text.stdout
    assert "rolled back" in text.stdout


def test_what_is_silenced_is_not_fixed_and_outside_git_needs_force(calctl: Any,
                                                                  tmp_path: Path) -> None:
    root = tmp_path / "plain"
    write(root / "calctl.toml", CONFIG)
    write(root / "db" / "migrations" / "V1__accounts.sql", ACCOUNTS)
    quiet = write(root / "db" / "migrations" / "V2__quiet.sql",
                  "-- calctl: ignore CAL011\nCREATE INDEX accounts_id ON accounts (id);\n")
    loud = write(root / "db" / "migrations" / "V3__loud.sql", OLD_INDEX)
    refused = calctl("migrate", "lint", "--fix", cwd=root)
    assert refused.returncode == 0
    assert "not fixed CAL011 db/migrations/V3__loud.sql:1:1: not in a git repository" in \
        refused.stdout
    assert loud.read_text(encoding="utf-8") == OLD_INDEX
    forced = calctl("migrate", "lint", "--fix", "--force", "--json", cwd=root).json()
    assert [f["path"] for f in forced["fixed"]] == ["V3__loud.sql"]
    assert "CONCURRENTLY" in loud.read_text(encoding="utf-8")
    assert "CONCURRENTLY" not in quiet.read_text(encoding="utf-8")


def test_fix_never_touches_a_file_the_target_applied(calctl: Any, git_repo: Path,
                                                     pg_url: str) -> None:
    migrations = _committed_project(git_repo)
    applied = calctl("migrate", "apply", "--database-url", pg_url, cwd=git_repo)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    # committed, but the target has not run it: with the target named, it may be fixed
    new = write(migrations / "V3__accounts_email.sql", NEW_INDEX)
    _git(git_repo, "add", "-A")
    _git(git_repo, "commit", "-q", "-m", "V3")
    result = calctl("migrate", "lint", "--fix", "--force", "--database-url", pg_url,
                    "--json", cwd=git_repo)
    assert result.returncode == 0, result.stdout + result.stderr
    doc = result.json()
    assert {f["path"] for f in doc["fixed"]} == {"V3__accounts_email.sql"}
    assert [(s["path"], s["reason"]) for s in doc["skipped"]] == [
        ("V2__accounts_id.sql",
         "applied by the target database: fixing the file would not change the database")]
    assert new.read_text(encoding="utf-8") == FIXED_INDEX
    assert (migrations / "V2__accounts_id.sql").read_text(encoding="utf-8") == OLD_INDEX
    # and the fixed file applies
    again = calctl("migrate", "apply", "--database-url", pg_url, cwd=git_repo)
    assert again.returncode == 0, again.stdout + again.stderr


def test_dbmate_and_crlf_files_and_a_ci_format(calctl: Any, tmp_path: Path) -> None:
    root = tmp_path / "dbmate"
    write(root / "calctl.toml", CONFIG)
    migrations = root / "db" / "migrations"
    write(migrations / "20240101000000_accounts.sql",
          "-- migrate:up\nCREATE TABLE accounts (id int, email text);\n\n"
          "-- migrate:down\nDROP TABLE accounts;\n")
    # dbmate reads no line above `-- migrate:up`: a no-transaction line there would do
    # nothing, so that fix is left to the author
    in_transaction = write(migrations / "20240102000000_email.sql",
                           "-- migrate:up\nCREATE INDEX accounts_email ON accounts (email);\n"
                           "\n-- migrate:down\nDROP INDEX accounts_email;\n")
    outside = write(migrations / "20240103000000_id.sql",
                    "-- migrate:up transaction:false\nCREATE INDEX accounts_id ON accounts (id);\n"
                    "\n-- migrate:down\nDROP INDEX accounts_id;\n")
    crlf = write(migrations / "20240104000000_lower.sql",
                 b"CREATE INDEX accounts_lower ON accounts (lower(email));\r\nSELECT 1;\r\n")
    result = calctl("migrate", "lint", "--fix", "--force", "--format", "sarif", cwd=root)
    assert result.returncode == 0, result.stderr
    log = result.json()  # stdout stays one SARIF log: what was fixed goes to stderr
    assert_valid_sarif(log)
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for r in log["runs"][0]["results"]] == [
        ("CAL011", "db/migrations/20240102000000_email.sql")]
    assert ("not fixed CAL011 db/migrations/20240102000000_email.sql:2:1: a fix outside the "
            "section of the file that calctl reads") in result.stderr
    assert "fixed CAL011 db/migrations/20240103000000_id.sql:2:1" in result.stderr
    assert "CONCURRENTLY" not in in_transaction.read_text(encoding="utf-8")
    assert outside.read_text(encoding="utf-8") == (
        "-- migrate:up transaction:false\n"
        "CREATE INDEX CONCURRENTLY accounts_id ON accounts (id);\n"
        "\n-- migrate:down\nDROP INDEX accounts_id;\n")
    assert crlf.read_bytes() == (
        b"-- calctl: no-transaction\r\n"
        b"CREATE INDEX CONCURRENTLY accounts_lower ON accounts (lower(email));\r\nSELECT 1;\r\n")
