"""Filename order: the natural sort key against its plain definition."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from calctl.sql.discovery import migration_key, natural_key


def plain_natural_key(path: str) -> tuple[tuple[int, int | str], ...]:
    """The definition: digit runs compare as numbers and sort before text at the
    same place; text compares as text."""
    return tuple((0, int(p)) if p.isdigit() else (1, p)
                 for p in re.split(r"(\d+)", path) if p)


names = st.lists(st.text(alphabet="0129_aZ./-", max_size=12), max_size=30)


@given(names)
def test_natural_key_sorts_as_its_definition(paths: list[str]) -> None:
    assert sorted(paths, key=natural_key) == sorted(paths, key=plain_natural_key)


def test_natural_order_of_migration_names() -> None:
    paths = ["10_x.sql", "2_x.sql", "1_a/up.sql", "001_b.sql", "V1_10__c.sql",
             "V1_2__b.sql", "R__views.sql", "a.sql", "1a.sql"]
    assert sorted(paths, key=migration_key) == [
        "1_a/up.sql", "001_b.sql", "1a.sql", "2_x.sql", "10_x.sql", "a.sql",
        "V1_2__b.sql", "V1_10__c.sql", "R__views.sql"]


def test_a_file_over_the_size_limit_is_refused_unread(calctl_argv: list[str],
                                                     project: Path) -> None:
    """A 300 MiB (sparse) migration is refused by its size, naming it, without being read:
    calctl runs with its data segment capped below the file's size (RLIMIT_DATA; peak RSS
    cannot tell, as a child inherits its parent's high-water mark), so reading it would
    end in a MemoryError (exit 70), not this exit 2."""
    import resource
    import subprocess

    migrations = project / "migrations"
    (migrations / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    with (migrations / "002_huge.sql").open("wb") as fh:
        fh.write(b"-- " + b"x" * (1 << 17) + b"\n")
        fh.truncate(300 * 1024 * 1024)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (200 << 20, 200 << 20))

    for args in (["migrate", "order"], ["migrate", "lint"], ["migrate", "order", "--json"]):
        proc = subprocess.run([*calctl_argv, *args], cwd=project, capture_output=True,
                              timeout=120, preexec_fn=cap)
        assert proc.returncode == 2, proc
        assert b"002_huge.sql" in proc.stderr + proc.stdout
        assert b"over the 256 MiB limit" in proc.stderr + proc.stdout
