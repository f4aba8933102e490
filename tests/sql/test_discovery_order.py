"""Filename order: the natural sort key against its plain definition."""

from __future__ import annotations

import re

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
