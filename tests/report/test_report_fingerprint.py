"""The fingerprint groups the same fault: in a copy of the project at another path, after
lines move, with other numbers, ids and paths in the message — and only the same fault."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from calctl.report.fingerprint import AppFrame, fingerprint, normalize_message


def _fp(calctl: Any, root: Path, log: str) -> str:
    result = calctl("report", "--dry-run", "--json", "-", cwd=root, input=log)
    assert result.returncode == 0, result.stderr
    value: str = result.json()["fingerprint"]
    return value


def test_same_fault_in_a_copy_at_another_path(calctl: Any, shop: Path, tmp_path: Path,
                                              fixture_text: Callable[[str, Path], str]) -> None:
    copy = tmp_path / "elsewhere" / "deeper" / "shop-copy"
    shutil.copytree(shop, copy)
    for name in ("python_chained.log", "node_stack.log", "pytest_failure.txt"):
        here = _fp(calctl, shop, fixture_text(name, shop))
        there = _fp(calctl, copy, fixture_text(name, copy))
        assert here == there, name
        assert here.startswith("fp1:") and len(here) == 4 + 32


def test_lines_moving_and_numbers_changing_keep_the_fingerprint(
        calctl: Any, shop: Path, fixture_text: Callable[[str, Path], str]) -> None:
    log = fixture_text("python_chained.log", shop)
    first = _fp(calctl, shop, log)
    cart = shop / "app" / "cart.py"
    cart.write_text("# a comment above moves every line\n" + cart.read_text())
    moved = log.replace("line 9, in total", "line 10, in total").replace(
        "line 14, in checkout", "line 15, in checkout")
    assert _fp(calctl, shop, moved) == first
    other = _fp(calctl, shop, log.replace("'price of banana'", "'price of kiwi'"))
    assert other == first  # a quoted value is a placeholder
    assert _fp(calctl, shop, log.replace("KeyError: ", "LookupError: ")) != first


def test_a_different_function_is_a_different_fault(
        calctl: Any, shop: Path, fixture_text: Callable[[str, Path], str]) -> None:
    log = fixture_text("python_chained.log", shop)
    assert _fp(calctl, shop, log) != _fp(calctl, shop, log.replace(
        'line 14, in checkout\n    return {"total": total(items)}',
        'line 14, in checkout\n    return {"sum": total(items)}'))


def test_message_placeholders() -> None:
    assert normalize_message(
        "order 4411 of 2026-11-30T10:00:01Z by 123e4567-e89b-12d3-a456-426614174000 "
        "at 0x7f3a, file /srv/app/x.py: 'banana' 9f86d081884c7d65") == (
        "order <num> of <ts> by <uuid> at <hex>, file <path>: <str> <hex>")


def test_fingerprint_ignores_context_whitespace_but_not_functions() -> None:
    one = fingerprint("KeyError", "x", [AppFrame("app.cart", "total", "a  +=   b")])
    assert one == fingerprint("KeyError", "x", [AppFrame("app.cart", "total", "a += b")])
    assert one != fingerprint("KeyError", "x", [AppFrame("app.cart", "checkout", "a += b")])
