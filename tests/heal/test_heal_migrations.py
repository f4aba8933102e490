"""The seed's scenario end to end: a misordered migration healed offline, then replayed
from memory in a second copy of the project sharing the audit store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from heal_helpers import MIGRATIONS, migrations_project


def _events(root: Path) -> list[dict[str, Any]]:
    lines = (root / ".calctl" / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_seed_scenario_heals_with_rules_then_replays_from_memory(
        tmp_path: Path, calctl: Any, new_database: Callable[[], str]) -> None:
    store = new_database()
    first = migrations_project(tmp_path / "first")
    app1 = new_database()

    # the check fails on its own first: filename order is unsafe
    plain = calctl("--store-url", store, "guard", "once", "--json", cwd=first,
                   env={"APP_DATABASE_URL": app1})
    assert plain.returncode == 1, plain.stderr
    finding = plain.json()["checks"][0]["finding"]
    assert finding["file"] == "migrations/011_add_admin_roles.sql"
    assert 'relation "users" does not exist' in finding["error"]

    healed = calctl("--store-url", store, "guard", "once", "--heal", "--json", cwd=first,
                    env={"APP_DATABASE_URL": app1})
    assert healed.returncode == 0, healed.stdout + healed.stderr
    run = healed.json()
    assert run["healthy"] is True
    [outcome] = run["heal"]
    assert outcome["outcome"] == "verified" and outcome["provider"] == "rules"
    assert outcome["from_memory"] is False
    commands = [v["command"] for v in outcome["verification"]]
    assert commands == ["check schema (migrations)",
                        "calctl migrate verify --order filename migrations"]
    assert all(v["ok"] for v in outcome["verification"])
    names = sorted(p.name for p in (first / "migrations").iterdir())
    assert names == ["010_roles.sql", "012_users.sql", "013_add_admin_roles.sql"]
    # a rename: the bytes are those of the original file
    assert (first / "migrations" / "013_add_admin_roles.sql").read_text() == \
        MIGRATIONS["011_add_admin_roles.sql"]
    order = calctl("migrate", "order", "--check", cwd=first)
    assert order.returncode == 0, order.stdout
    # the check's target database was not touched (apply = false)
    with psycopg.connect(app1) as conn:
        assert conn.execute("SELECT to_regclass('users')").fetchone() == (None,)

    with psycopg.connect(store) as conn:
        rows = conn.execute("SELECT check_name, provider, status, fingerprint, patch_id,"
                            " started_at, finished_at, detail FROM calctl_heal_runs").fetchall()
        memory = conn.execute("SELECT fingerprint, successes, failures"
                              " FROM calctl_fix_memory").fetchall()
    assert len(rows) == 1
    check, provider, status, fingerprint, patch_id, started, finished, detail = rows[0]
    assert (check, provider, status) == ("schema", "rules", "verified")
    assert patch_id == outcome["patch_id"] and finished > started
    recorded = json.loads(detail)
    assert recorded["finding"]["file"] == "migrations/011_add_admin_roles.sql"
    assert recorded["patch"]["edits"][0]["op"] == "rename"
    assert recorded["seconds_to_repair"] > 0 and recorded["from_memory"] is False
    assert memory == [(fingerprint, 1, 0)]

    # a second copy at another path, same fault, same store: healed from memory
    second = migrations_project(tmp_path / "elsewhere" / "second")
    app2 = new_database()
    again = calctl("--store-url", store, "guard", "once", "--heal", "--json", cwd=second,
                   env={"APP_DATABASE_URL": app2})
    assert again.returncode == 0, again.stdout + again.stderr
    [replayed] = again.json()["heal"]
    assert replayed["outcome"] == "verified"
    assert replayed["provider"] == "memory" and replayed["from_memory"] is True
    assert replayed["fingerprint"] == fingerprint
    assert [v["ok"] for v in replayed["verification"]] == [True, True]  # still verified
    assert sorted(p.name for p in (second / "migrations").iterdir()) == names
    asked = [e["data"]["provider"] for e in _events(second)
             if e["type"] in ("report.diagnosed", "report.diagnosis_failed")]
    assert asked == ["memory"]  # rules was never called

    stats = calctl("--store-url", store, "stats", "--json", cwd=second)
    assert stats.returncode == 0, stats.stderr
    figures = stats.json()
    assert figures["runs"] == 2 and figures["verified"] == 2
    assert figures["fixes_learned"] == 1 and figures["fixes_replayed"] == 1
    by_provider = {p["name"]: p for p in figures["providers"]}
    assert by_provider["memory"]["replayed"] == 1 and by_provider["rules"]["replayed"] == 0
    assert figures["mean_time_to_repair"] > 0
    with psycopg.connect(store) as conn:
        assert conn.execute("SELECT successes, failures FROM calctl_fix_memory").fetchall() \
            == [(2, 0)]


def test_dry_run_shows_the_plan_and_applies_nothing(
        tmp_path: Path, calctl: Any, new_database: Callable[[], str]) -> None:
    project = migrations_project(tmp_path / "p")
    before = sorted(p.name for p in (project / "migrations").iterdir())
    done = calctl("guard", "once", "--heal", "--dry-run", "--json", cwd=project,
                  env={"APP_DATABASE_URL": new_database()})
    assert done.returncode == 1, done.stderr
    [outcome] = done.json()["heal"]
    assert outcome["outcome"] == "skipped" and outcome["dry_run"] is True
    plan = outcome["plan"]
    assert plan["files"] == ["migrations/011_add_admin_roles.sql",
                             "migrations/013_add_admin_roles.sql"]
    assert "calctl migrate verify --order filename" in plan["verification"]
    assert sorted(p.name for p in (project / "migrations").iterdir()) == before
    stats = calctl("stats", "--json", cwd=project).json()
    assert stats["runs"] == 0  # a dry run is no heal run
