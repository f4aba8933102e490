"""Real migration directories: calos-agent-router (118 files) and PostgreSQL's regression SQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calctl.config import MigrateSettings
from calctl.sql.analyse import analyse
from calctl.sql.discovery import natural_key
from calctl.sql.facts import AnalysisInput
from calctl.sql.rules.cal005_duplicate_version import version_of
from calctl.sql.runtime import lint_directory
from support import corpus


def test_pg_regression_never_crashes_the_analyser() -> None:
    root = corpus("pg-regression")
    files = sorted(root.glob("*.sql"))
    assert len(files) == 243
    approximate = 0
    for path in files:
        result = analyse(AnalysisInput.of(path.read_bytes().decode("utf-8", "replace"), path.name))
        approximate += result.approximate
        for fact in result.facts:
            assert fact[3] >= 1 and all(fact[2])  # line, names
        for note in result.notes:
            assert note.line >= 1
    assert 0 < approximate < len(files)  # some files are invalid on purpose, most are not


def test_pg_regression_lint_through_the_cli(calctl: Any, tmp_path: Path) -> None:
    result = calctl("--state-dir", str(tmp_path / "state"), "migrate", "lint",
                    str(corpus("pg-regression")), "--json", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    document = result.json()
    assert document["kind"] == "migration-lint" and document["files"] == 243
    assert any(p["code"] == "CAL006" for p in document["problems"])


def test_calos_analysis_finds_what_is_really_there(tmp_path: Path) -> None:
    root = corpus("calos-agent-router")
    report = lint_directory(root, MigrateSettings(), cache_dir=tmp_path)
    codes = [p.code for p in report.problems]
    assert report.files == 118
    # 32 version prefixes are shared by more than one file
    versions: dict[str, int] = {}
    for path in root.glob("*.sql"):
        v = version_of(path.name)
        assert v is not None
        versions[v] = versions.get(v, 0) + 1
    shared = [v for v, n in versions.items() if n > 1]
    assert len(shared) == 32
    assert codes.count("CAL005") == sum(versions[v] - 1 for v in shared)
    # tables created in two files; update_updated_at_column used long before it exists
    assert "CAL004" in codes
    forward = [p for p in report.problems if p.code == "CAL001"]
    assert any(p.path == "010_add_code_index.sql" and "update_updated_at_column" in p.message
               and "059_add_github_runelite_system.sql" in p.message for p in forward)
    missing = [p.message for p in report.problems if p.code == "CAL003"]
    assert any('table "ai_responses"' in m for m in missing)


def _clean_subset(root: Path, target: Path, url: str,
                  pg_apply: Callable[..., Any]) -> list[str]:
    """Copy the files that apply in filename order (on this server) into ``target``."""
    names = sorted((p.name for p in root.glob("*.sql")), key=natural_key)
    failed = {path for path, _ in pg_apply(url, root, names)}
    target.mkdir()
    kept = [n for n in names if n not in failed]
    for name in kept:
        shutil.copy2(root / name, target / name)
    return kept


def test_calos_clean_subset_keeps_filename_order_and_detects_renumbering(
        calctl: Any, tmp_path: Path, pg_url: str, pg_server_url: str,
        pg_apply: Callable[..., Any]) -> None:
    """Filename order of calos does not apply as is (duplicate prefixes, a missing
    ai_responses table, extensions this server lacks, syntax errors): the files that do
    apply form a real directory whose filename order is clean. There --check must pass
    and move nothing; renumbering a creator after its users must fail --check naming
    both files, and the plan's order must apply."""
    import uuid

    import psycopg

    root = corpus("calos-agent-router")
    clean = tmp_path / "clean"
    kept = _clean_subset(root, clean, pg_url, pg_apply)
    assert len(kept) >= 30
    state = str(tmp_path / "state")
    result = calctl("--state-dir", state, "migrate", "order", str(clean), "--check", "--json",
                    cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    plan = result.json()
    assert [f["path"] for f in plan["files"]] == kept
    assert all(f["moved_from"] is None for f in plan["files"])

    # renumber the file most others depend on so that it sorts after all of them
    users: dict[str, set[str]] = {}
    for f in plan["files"]:
        for dep in f["depends_on"]:
            users.setdefault(dep["path"], set()).add(f["path"])
    creator = max(users, key=lambda p: (len(users[p]), p))
    renamed = "999_" + creator.split("_", 1)[1]
    (clean / creator).rename(clean / renamed)
    result = calctl("--state-dir", state, "migrate", "order", str(clean), "--check", "--json",
                    cwd=tmp_path)
    assert result.returncode == 1
    plan = result.json()
    forward = [p for p in plan["problems"] if p["code"] == "CAL001"]
    assert forward and all(renamed in p["message"] for p in forward)
    assert {p["path"] for p in forward} <= users[creator]
    text = calctl("--state-dir", state, "migrate", "order", str(clean), "--check", cwd=tmp_path)
    assert text.returncode == 1 and renamed in text.stdout

    # the plan's order applies cleanly to a fresh database
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        info = conninfo_to_dict(pg_server_url)
        info["dbname"] = name
        fresh = make_conninfo(**info)
        assert pg_apply(fresh, clean, [f["path"] for f in plan["files"]]) == []
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
    assert json.dumps(plan)  # the document is plain JSON
