"""One glob dialect, gitignore's: ``[patch] protect`` and ``[migrate] glob``/``exclude``
(and their flags) mean what git means, through the real console script."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from support import patch_doc as doc
from support import write

TABLE = "CREATE TABLE t{n} (id int);\n"


def _tree(root: Path, names: list[str]) -> None:
    for n, name in enumerate(names):
        write(root / name, TABLE.format(n=n))


def _files(calctl: Any, root: Path, *args: str) -> list[str]:
    result = calctl("migrate", "order", "--json", *args, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return sorted(f["path"] for f in result.json()["files"])


def test_git_ignore_lines_select_migrations(calctl: Any, tmp_path: Path) -> None:
    """What ``git ls-files -i -c --exclude=PATTERN`` would list, calctl selects."""
    root = tmp_path / "repo"
    write(root / "calctl.toml", '[migrate]\ndir = "db/migrations"\n')
    names = ["V1__a.sql", "V2__b.sql", "Va__c.sql", "sub/V3__d.sql", "sub/deeper/V4__e.sql",
             "old/V5__f.sql", "deep/sub/x.sql", "sub/x.sql", "V6__skip.sql"]
    _tree(root / "db" / "migrations", names)

    # unanchored: a name at any depth; [0-9] a class, as in git
    assert _files(calctl, root, "--glob", "V[0-9]*.sql") == [
        "V1__a.sql", "V2__b.sql", "V6__skip.sql", "old/V5__f.sql", "sub/V3__d.sql",
        "sub/deeper/V4__e.sql"]
    # anchored (an inner slash): relative to the migration directory, and * stops at /
    # (fnmatch's * crossed folders: sub/*.sql took sub/deeper/V4__e.sql too)
    assert _files(calctl, root, "--glob", "sub/*.sql") == ["sub/V3__d.sql", "sub/x.sql"]
    assert _files(calctl, root, "--glob", "/sub/**/*.sql") == [
        "sub/V3__d.sql", "sub/deeper/V4__e.sql", "sub/x.sql"]
    # a folder pattern excludes everything under it; ! takes a file back
    assert _files(calctl, root, "--glob", "V*.sql", "--glob", "!V6__skip.sql",
                  "--exclude", "old/", "--exclude", "sub/") == ["V1__a.sql", "V2__b.sql",
                                                               "Va__c.sql"]
    # the same from the config file
    write(root / "calctl.toml", '[migrate]\ndir = "db/migrations"\n'
          'glob = ["V[0-9]*.sql"]\nexclude = ["deeper/"]\n')
    assert _files(calctl, root) == ["V1__a.sql", "V2__b.sql", "V6__skip.sql",
                                    "old/V5__f.sql", "sub/V3__d.sql"]

    # and git agrees, file for file
    subprocess.run(["git", "init", "-q"], cwd=root / "db" / "migrations", check=True)
    listed = subprocess.run(
        ["git", "ls-files", "-o", "-i", "--exclude=V[0-9]*.sql"], cwd=root / "db" / "migrations",
        check=True, capture_output=True, text=True).stdout.split()
    write(root / "calctl.toml", '[migrate]\ndir = "db/migrations"\n')
    assert sorted(listed) == _files(calctl, root, "--glob", "V[0-9]*.sql")


def test_a_pattern_git_cannot_read_is_exit_2(calctl: Any, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _tree(root / "migrations", ["1_a.sql"])
    flag = calctl("migrate", "order", "--glob", "\\", cwd=root)
    assert flag.returncode == 2, flag.stderr
    assert "glob pattern '\\\\'" in flag.stderr and "gitignore" in flag.stderr
    write(root / "calctl.toml", '[migrate]\nexclude = ["ok/", "\\\\"]\n')
    check = calctl("config", "check", cwd=root)
    assert check.returncode == 2
    assert "migrate.exclude[1]" in check.stderr and "calctl.toml:2" in check.stderr


def _protected(calctl: Any, root: Path, path: str) -> bool:
    exists = (root / path).exists()
    edit = ({"op": "replace", "path": path, "search": "id int", "replace": "id bigint"}
            if exists else {"op": "create", "path": path, "content": "x\n"})
    patch = root.parent / "patch.json"
    patch.write_text(doc(edit), encoding="utf-8")
    result = calctl("patch", "apply", str(patch), "--json", "--no-verify", cwd=root)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    data = result.json()
    if data["status"] == "refused":
        return True
    assert data["status"] == "applied", data
    undo = calctl("patch", "rollback", data["patch_id"], cwd=root)
    assert undo.returncode == 0, undo.stderr
    return False


def test_protect_means_what_git_means(calctl: Any, tmp_path: Path) -> None:
    root = tmp_path / "app"
    write(root / "calctl.toml", '[migrate]\ndir = "schema"\n'
          '[patch]\nprotect = ["db/migrations/V[0-9]*.sql", "/docs/"]\n')
    _tree(root, ["schema/1_a.sql", "db/migrations/V1__a.sql", "db/migrations/Vx__a.sql",
                 "db/migrations/sub/V2__b.sql", "lib/db/migrations/V1__a.sql"])
    os.makedirs(root / ".git")
    # anchored at the project root, * within one folder, [0-9] a class
    assert _protected(calctl, root, "db/migrations/V1__a.sql")
    assert not _protected(calctl, root, "db/migrations/Vx__a.sql")
    assert not _protected(calctl, root, "db/migrations/sub/V2__b.sql")
    assert not _protected(calctl, root, "lib/db/migrations/V1__a.sql")
    # "/docs/" anchored, the default "tests/" not: a folder of that name anywhere
    assert _protected(calctl, root, "docs/new.md")
    assert not _protected(calctl, root, "lib/docs/new.md")
    assert _protected(calctl, root, "tests/test_new.md")
    assert _protected(calctl, root, "lib/tests/new.md")
    assert not _protected(calctl, root, "lib/tests.md")


def test_no_glob_imports_no_pathspec(calctl: Any, tmp_path: Path) -> None:
    """Cold ``migrate order`` speed: pathspec is imported only when a glob is set."""
    root = tmp_path / "repo"
    _tree(root / "migrations", ["1_a.sql", "2_b.sql"])
    env = {"PYTHONPROFILEIMPORTTIME": "1", "CALCTL_SERIAL": "1"}
    plain = calctl("migrate", "order", cwd=root, env=env)
    assert plain.returncode == 0 and "calctl.sql.discovery" in plain.stderr
    assert "pathspec" not in plain.stderr
    globbed = calctl("migrate", "order", "--exclude", "old/", cwd=root, env=env)
    assert globbed.returncode == 0 and "pathspec" in globbed.stderr
