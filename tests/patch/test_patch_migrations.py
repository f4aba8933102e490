"""Migrations the application database records as applied are protected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from patch_helpers import patch_doc, tree, write


def _project(proj: Path) -> Path:
    write(proj / "migrations" / "001_init.sql", "CREATE TABLE t (id int);\n")
    write(proj / "migrations" / "002_next.sql", "CREATE TABLE u (id int);\n")
    return proj


def _edit(name: str) -> str:
    return patch_doc({"op": "replace", "path": f"migrations/{name}", "search": "id int",
                      "replace": "id bigint"})


def test_applied_migration_is_refused(calctl: Any, proj: Path, pg_url: str) -> None:
    _project(proj)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE calctl_migrations (path text PRIMARY KEY, checksum text)")
        conn.execute("INSERT INTO calctl_migrations VALUES ('001_init.sql', 'x')")
    before = tree(proj)
    env = {"DATABASE_URL": pg_url}
    refused = calctl("patch", "apply", "-", "--json", "--no-verify", cwd=proj,
                     input=_edit("001_init.sql"), env=env)
    assert refused.returncode == 1
    assert "migration already recorded as applied" in refused.json()["reasons"][0]
    assert tree(proj) == before
    pending = calctl("patch", "apply", "-", "--json", "--no-verify", cwd=proj,
                     input=_edit("002_next.sql"), env=env)
    assert pending.returncode == 0, pending.stdout
    allowed = calctl("patch", "apply", "-", "--json", "--no-verify", "--allow-protected",
                     cwd=proj, input=_edit("001_init.sql"), env=env)
    assert allowed.returncode == 0


def test_unreachable_database_protects_every_migration(calctl: Any, proj: Path) -> None:
    _project(proj)
    env = {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = calctl("patch", "apply", "-", "--json", "--no-verify", cwd=proj,
                    input=_edit("002_next.sql"), env=env)
    assert result.returncode == 1
    assert "cannot tell whether this migration was applied" in result.json()["reasons"][0]


def test_without_database_url_migrations_are_patchable(calctl: Any, proj: Path) -> None:
    _project(proj)
    result = calctl("patch", "apply", "-", "--json", "--no-verify", cwd=proj,
                    input=_edit("001_init.sql"))
    assert result.returncode == 0, result.stdout
