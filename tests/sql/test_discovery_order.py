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
    the run stays small however large the file claims to be."""
    import os
    import subprocess

    migrations = project / "migrations"
    (migrations / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    with (migrations / "002_huge.sql").open("wb") as fh:
        fh.write(b"-- " + b"x" * (1 << 17) + b"\n")
        fh.truncate(300 * 1024 * 1024)
    for args in (["migrate", "order"], ["migrate", "lint"]):
        proc = subprocess.Popen([*calctl_argv, *args], cwd=project, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (out, err)
        assert b"002_huge.sql" in err and b"over the 256 MiB limit" in err
    # this run alone (its own rusage): nowhere near the file's size
    proc = subprocess.Popen([*calctl_argv, "migrate", "order"], cwd=project,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, for its own rusage
    assert proc.returncode == 2
    assert usage.ru_maxrss < 150 * 1024  # KiB
