"""Filename order: the natural sort key against its plain definition."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

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


def test_a_file_over_the_size_limit_is_refused_unread(calctl: Any, project: Path) -> None:
    """A 300 MiB (sparse) migration is refused by its size, naming it, without being read:
    the run stays small and quick however large the file claims to be."""
    import resource

    migrations = project / "migrations"
    (migrations / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    with (migrations / "002_huge.sql").open("wb") as fh:
        fh.write(b"-- " + b"x" * (1 << 17) + b"\n")
        fh.truncate(300 * 1024 * 1024)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    for args in (["migrate", "order"], ["migrate", "lint"]):
        result = calctl(*args, cwd=project)
        assert result.returncode == 2, result
        assert "002_huge.sql" in result.stderr and "over the 256 MiB limit" in result.stderr
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    assert max(peak, before) < 200 * 1024  # KiB: nowhere near the file's size
