"""The natural order's shortcut: names already in natural order are not sorted again."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calctl.sql.layout import natural_already, natural_key

_NAME_CHARS = "0123456789_a/.-Z\u0663\u00b2"  # with an Arabic-Indic digit and a superscript


@settings(max_examples=500)
@given(st.lists(st.text(_NAME_CHARS, min_size=1, max_size=8), max_size=12, unique=True))
def test_natural_already_is_true_only_when_the_natural_sort_moves_nothing(
        names: list[str]) -> None:
    paths = sorted(names)
    if natural_already(paths):
        assert sorted(paths, key=natural_key) == paths
    else:
        assert sorted(paths, key=natural_key) != paths


@pytest.mark.parametrize(("paths", "already"), [
    (["00001_a.sql", "00002_b.sql", "00010_c.sql"], True),
    (["1_a.sql", "10_b.sql", "2_c.sql"], False),
    (["20230101_x/migration.sql", "20230102_y/migration.sql"], True),
    (["V1__a.sql", "V1_1__b.sql", "V2__c.sql"], False),  # "_1" before "__"
    (["a9.sql", "a10.sql"], True),  # (already natural: not sorted as strings)
    (["a.sql", "a1.sql", "a_b.sql"], False),  # a digit sorts before the dot here
    (["4", "\u0663"], False),  # an Arabic-Indic 3: after "4" as text, before it as a number
])
def test_natural_already_on_usual_names(paths: list[str], already: bool) -> None:
    assert natural_already(paths) is already
