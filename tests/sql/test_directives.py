"""``marked_no_transaction`` reads the three no-transaction markers exactly as one
pattern with ``^`` under re.M would (its documented meaning), without that pattern's cost."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from calctl.sql.directives import marked_no_transaction

# the reference: calctl's marker anywhere, goose's and dbmate's at the start of a line
REFERENCE = re.compile(r"--\s*calctl:\s*no-transaction\b"
                       r"|^--\s*\+goose\s+no\s+transaction\b"
                       r"|^\s*--\s*migrate:up\b[^\n]*\btransaction:false\b", re.I | re.M)

PIECES = ["--", "-", " ", "\t", "\n", "\r", "\x1c", "\u00a0", "\u2028", "calctl:", "CALCTL:",
          "no-transaction", "NO-TRANSACTION", "+goose", "+GOOSE", "no", "transaction",
          "migrate:up", "MIGRATE:UP", "transaction:false", "x", ";", "_", "\u017f"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_markers_as_the_reference_pattern(text: str) -> None:
    assert marked_no_transaction(text, False) == bool(REFERENCE.search(text))


def test_markers_at_line_starts() -> None:
    assert marked_no_transaction("-- +goose NO TRANSACTION\nSELECT 1;", False)
    assert marked_no_transaction("SELECT 1;\n-- +goose no transaction\n", False)
    assert not marked_no_transaction("SELECT 1; -- +goose no transaction\n", False)
    assert not marked_no_transaction(" -- +goose no transaction\n", False)  # goose: column 1
    assert marked_no_transaction("  -- migrate:up transaction:false\nSELECT 1;", False)
    assert marked_no_transaction("x;\n\n\t-- migrate:up transaction:false\n", False)
    assert not marked_no_transaction("x; -- migrate:up transaction:false\n", False)
    assert not marked_no_transaction("-- migrate:up\n-- transaction:false\n", False)
    assert marked_no_transaction("SELECT 1; -- calctl: no-transaction", False)
    assert marked_no_transaction("SELECT 1;", True)
    assert not marked_no_transaction("SELECT 1;", False)
