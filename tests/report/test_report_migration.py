"""The pipeline of DESIGN §3 on real PostgreSQL: `migrate apply --json` prints a finding
for the failing file, and `calctl report -` makes its report from it."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def test_finding_of_migrate_apply_becomes_a_report(calctl: Any, shop: Path,
                                                   pg_url: str) -> None:
    env = {"DATABASE_URL": pg_url}
    applied = calctl("migrate", "apply", "--json", cwd=shop, env=env)
    assert applied.returncode != 0, applied.stdout
    finding = applied.stdout
    assert '"kind": "finding"' in finding
    result = calctl("report", "--dry-run", "--json", "-", cwd=shop, input=finding, env=env)
    assert result.returncode == 0, result.stderr
    doc = result.json()
    assert doc["file"] == "migrations/002_roles.sql"
    assert doc["line"] == 4
    assert doc["error_type"] == "PostgreSQL ERROR"
    assert 'relation "rolez" does not exist' in doc["error"]
    assert doc["context"]["sqlstate"] == "42P01"
    assert doc["snippet"]["lines"][doc["line"] - doc["snippet"]["first_line"]] == \
        "  role_id bigint REFERENCES rolez (id)"
    assert str(shop) not in result.stdout
