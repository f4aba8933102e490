"""``calctl stats`` reads heal runs and fix memory from the audit store (SQLite here;
the same SQL runs on PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calctl.config import Settings
from calctl.store import open_store


def test_no_heals_yet_shows_zeros(calctl: Any, project: Path) -> None:
    result = calctl("stats", "--json", cwd=project)
    assert result.returncode == 0, result.stderr
    stats = result.json()
    assert stats["kind"] == "heal-stats"
    assert (stats["runs"], stats["heal_rate"], stats["mean_time_to_repair"],
            stats["fixes_learned"], stats["level"]) == (0, 0.0, None, 0, 0)
    text = calctl("stats", cwd=project)
    assert text.returncode == 0 and text.stdout.startswith("level 0: 0 fixes learned")


def _heal_run(store: Any, n: int, check: str, provider: str, status: str,
              seconds: float) -> None:
    start = f"2026-11-30T10:00:{n:02d}+00:00"
    end_s = n + seconds
    end = f"2026-11-30T10:{int(end_s // 60):02d}:{end_s % 60:06.3f}+00:00"
    store.execute("INSERT INTO calctl_heal_runs (id, check_name, fingerprint, provider, status,"
                  " started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  (f"run{n}", check, f"fp-{check}", provider, status, start, end))


def test_rates_times_and_memory(calctl: Any, project: Path, tmp_path: Path) -> None:
    with open_store(Settings.resolve(cwd=project)) as store:
        _heal_run(store, 1, "schema", "rules", "verified", 4.0)
        _heal_run(store, 2, "schema", "memory", "verified", 2.0)
        _heal_run(store, 3, "tests", "openai", "rolled_back", 30.0)
        _heal_run(store, 4, "tests", "openai", "verified", 12.0)
        _heal_run(store, 5, "tests", "rules", "no_fix", 1.0)
        store.remember_fix("fp-schema", {"kind": "patch", "edits": []}, "rename")
        store.remember_fix("fp-tests", {"kind": "patch", "edits": []}, "off by one")
        store.execute("UPDATE calctl_fix_memory SET failures = 1 WHERE fingerprint = ?",
                      ("fp-tests",))
    stats = calctl("stats", "--json", cwd=project).json()
    assert (stats["runs"], stats["verified"], stats["rolled_back"], stats["no_fix"]) == \
        (5, 3, 1, 1)
    assert stats["heal_rate"] == 0.75  # 3 verified of the 4 that tried a patch
    assert stats["mean_time_to_repair"] == 6.0  # (4 + 2 + 12) / 3
    assert (stats["fixes_learned"], stats["fixes_forgotten"], stats["fixes_replayed"],
            stats["level"]) == (1, 1, 1, 1)
    providers = {row["name"]: row for row in stats["providers"]}
    assert providers["memory"]["replayed"] == 1 and providers["openai"]["heal_rate"] == 0.5
    checks = {row["name"]: row for row in stats["checks"]}
    assert checks["schema"]["mean_time_to_repair"] == 3.0 and checks["tests"]["runs"] == 3
    text = calctl("stats", cwd=project).stdout
    assert "heal rate 75%, mean time to repair 6.0 s" in text
    # the prometheus textfile counts the same runs
    (project / "calctl.toml").write_text(
        '[[guard.checks]]\nname = "t"\ntype = "command"\nrun = "true"\n')
    prom = tmp_path / "m.prom"
    assert calctl("guard", "once", "--prometheus", str(prom), cwd=project).returncode == 0
    text = prom.read_text()
    assert 'calctl_heal_total{result="verified"} 3.0' in text
    assert 'calctl_heal_total{result="rolled_back"} 1.0' in text
