"""``migrate lint --write-baseline`` / ``--baseline``: today's findings accepted, only new
ones reported, whatever happens to the lines around them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LATER = "ALTER TABLE accounts DROP COLUMN legacy;\n"


def _project(root: Path) -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "001_accounts.sql").write_text(
        "CREATE TABLE accounts (id bigint, email text, legacy text);\n", encoding="utf-8")
    (root / "migrations" / "002_old.sql").write_text(
        "CREATE INDEX accounts_email ON accounts (email);\n" + LATER, encoding="utf-8")
    # squawk's timeout rules (CAL025, CAL026) would fire on every file: not the subject here
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n[migrate.lint]\n'
                                      'ignore = ["CAL025", "CAL026"]\n', encoding="utf-8")
    return root


def _problems(calctl: Any, root: Path, *args: str) -> list[tuple[str, str, int]]:
    result = calctl("migrate", "lint", "--json", *args, cwd=root)
    assert result.returncode in (0, 1), result.stderr
    return [(p["code"], p["path"], p["line"]) for p in result.json()["problems"]]


def test_a_baseline_reports_only_new_findings(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert _problems(calctl, root) == [("CAL011", "002_old.sql", 1), ("CAL008", "002_old.sql", 2)]
    result = calctl("migrate", "lint", "--write-baseline", "lint-baseline.json", cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "wrote 2 findings to baseline lint-baseline.json\n"
    document = json.loads((root / "lint-baseline.json").read_text(encoding="utf-8"))
    assert document["kind"] == "lint-baseline" and document["version"] == 1
    assert {(f["code"], f["path"]) for f in document["findings"]} == {
        ("CAL011", "002_old.sql"), ("CAL008", "002_old.sql")}
    result = calctl("migrate", "lint", "--baseline", "lint-baseline.json", cwd=root)
    assert result.returncode == 0 and "0 errors, 0 warnings" in result.stdout

    # lines shift, comments and white space change: still the same findings
    (root / "migrations" / "002_old.sql").write_text(
        "-- reviewed in 2024\n\n\nCREATE   INDEX accounts_email\n  ON accounts (email); -- ok\n"
        "/* keep */ ALTER TABLE accounts\n DROP COLUMN legacy;\n", encoding="utf-8")
    assert _problems(calctl, root, "--baseline", "lint-baseline.json") == []
    # a new file's finding, and a changed statement, are new
    (root / "migrations" / "003_new.sql").write_text(
        "CREATE INDEX accounts_id ON accounts (id);\n", encoding="utf-8")
    (root / "migrations" / "002_old.sql").write_text(
        "CREATE INDEX accounts_email ON accounts (lower(email));\n" + LATER, encoding="utf-8")
    assert _problems(calctl, root, "--baseline", "lint-baseline.json") == [
        ("CAL011", "002_old.sql", 1), ("CAL011", "003_new.sql", 1)]


def test_a_second_finding_on_one_statement_is_new(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path)
    assert calctl("migrate", "lint", "--write-baseline", "b.json", cwd=root).returncode == 0
    # the same statement again elsewhere in the file: one is in the baseline, one is new
    (root / "migrations" / "002_old.sql").write_text(
        "CREATE INDEX accounts_email ON accounts (email);\n" + LATER + LATER,
        encoding="utf-8")
    assert _problems(calctl, root, "--baseline", "b.json") == [("CAL008", "002_old.sql", 3)]


def test_write_baseline_with_json_prints_the_document(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = calctl("migrate", "lint", "--json", "--write-baseline", "b.json", cwd=root)
    assert result.returncode == 0
    assert result.json() == json.loads((root / "b.json").read_text(encoding="utf-8"))
    # writing is never replayed from the output cache: a second run writes again
    (root / "b.json").unlink()
    assert calctl("migrate", "lint", "--write-baseline", "b.json", cwd=root).returncode == 0
    assert (root / "b.json").is_file()


def test_a_garbage_baseline_is_exit_2_naming_the_file(calctl: Any, tmp_path: Path) -> None:
    root = _project(tmp_path)
    (root / "b.json").write_text("not json at all", encoding="utf-8")
    result = calctl("migrate", "lint", "--baseline", "b.json", cwd=root)
    assert result.returncode == 2
    assert "baseline b.json is not a lint-baseline document: not JSON" in result.stderr
    (root / "b.json").write_text('{"kind": "migration-lint", "version": 1}', encoding="utf-8")
    result = calctl("migrate", "lint", "--baseline", "b.json", cwd=root)
    assert result.returncode == 2
    assert "baseline b.json is not a lint-baseline document: field kind" in result.stderr
    (root / "b.json").write_text(json.dumps({"kind": "lint-baseline", "version": 1,
                                             "directory": "m", "findings": [{"code": 5}]}),
                                 encoding="utf-8")
    result = calctl("migrate", "lint", "--baseline", "b.json", "--json", cwd=root)
    assert result.returncode == 2
    assert result.json()["kind"] == "error" and "findings[0]" in result.json()["message"]
    result = calctl("migrate", "lint", "--baseline", "missing.json", cwd=root)
    assert result.returncode == 2
    assert "cannot read baseline missing.json" in result.stderr
