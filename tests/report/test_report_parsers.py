"""Each log format's parser on its fixture, and the last-error search of a log."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

from calctl.report.logread import iter_lines, last_log_error, text_error
from calctl.report.parsers import last_error, node, postgres, pytest, python


def test_python_chained_traceback_is_one_error_ending_in_the_last_exception(
        shop: Path, fixture_text: Callable[[str, Path], str]) -> None:
    lines = fixture_text("python_chained.log", shop).splitlines()
    [error] = python.parse(lines)
    assert (error.error_type, error.message) == ("KeyError", "'price of banana'")
    assert error.chain == ("AttributeError: 'NoneType' object has no attribute 'price'",)
    assert [f.function for f in error.frames] == [
        "full_dispatch_request", "checkout", "total", "wrapper"]
    assert error.frames[2].code == "amount += prices.price_of(item)"
    assert lines[error.start].startswith("Traceback")
    assert lines[error.end - 1].startswith("KeyError")


def test_python_traceback_with_a_log_prefix_on_every_line() -> None:
    lines = ["12:00:01 app | Traceback (most recent call last):",
             '12:00:01 app |   File "/srv/x.py", line 3, in run',
             "12:00:01 app |     go()",
             "12:00:01 app | ValueError: no",
             "12:00:02 app | done"]
    [error] = python.parse(lines)
    assert (error.error_type, error.message, error.frames[0].function) == (
        "ValueError", "no", "run")


def test_node_stack_innermost_frame_last(shop: Path,
                                         fixture_text: Callable[[str, Path], str]) -> None:
    lines = fixture_text("node_stack.log", shop).splitlines()
    [error] = node.parse(lines)
    assert error.error_type == "TypeError"
    assert error.message == "Cannot read properties of undefined (reading 'price')"
    inner = error.frames[-1]
    assert (inner.path, inner.line, inner.column, inner.function) == (
        f"{shop}/web/cart.js", 4, 34, "lineTotal")
    assert error.frames[0].path == "node:internal/process/task_queues"


def test_psql_error_with_line_and_caret(shop: Path,
                                        fixture_text: Callable[[str, Path], str]) -> None:
    [error] = postgres.parse(fixture_text("postgres_psql.log", shop).splitlines())
    assert error.message == 'relation "rolez" does not exist'
    assert error.frames[0].path == "migrations/002_roles.sql"
    assert error.extra["statement_line"] == 3
    assert error.extra["caret"] == 36


def test_server_log_error_keeps_hint_and_statement(
        shop: Path, fixture_text: Callable[[str, Path], str]) -> None:
    [error] = postgres.parse(fixture_text("postgres_server.log", shop).splitlines())
    assert error.message == 'column "totl" does not exist at character 8'
    assert error.extra["hint"].startswith("Perhaps you meant")
    assert error.extra["statement"] == "SELECT totl FROM orders WHERE id = 42"


def test_application_error_lines_are_not_postgres_errors() -> None:
    assert postgres.parse(["2026-01-01 ERROR: payment failed"]) == []


def test_pytest_failure_frames_and_e_lines(shop: Path,
                                           fixture_text: Callable[[str, Path], str]) -> None:
    [error] = pytest.parse(fixture_text("pytest_failure.txt", shop).splitlines())
    assert (error.error_type, error.message) == (
        "AttributeError", "'int' object has no attribute 'price'")
    assert [(f.path, f.line, f.function) for f in error.frames] == [
        ("tests/test_cart.py", 5, "test_total"), ("app/cart.py", 9, "total"),
        ("app/prices.py", 8, "price_of")]
    assert error.frames[-1].code == "return entry.price"


def test_pytest_assertion_without_type_on_the_e_line() -> None:
    lines = ["____ test_sum ____", "", "    def test_sum():", ">       assert 1 + 1 == 3",
             "E       assert (1 + 1) == 3", "", "tests/test_sum.py:2: AssertionError"]
    [error] = pytest.parse(lines)
    assert (error.error_type, error.message) == ("AssertionError", "assert (1 + 1) == 3")
    assert error.frames[-1].function == "test_sum"


def test_last_error_wins_and_keeps_breadcrumbs(shop: Path,
                                               fixture_text: Callable[[str, Path], str]) -> None:
    text = (fixture_text("node_stack.log", shop) + "\n"
            + fixture_text("python_chained.log", shop))
    found = last_log_error(io.BytesIO(text.encode()), breadcrumbs=3)
    assert found is not None
    assert found.error.error_type == "KeyError"
    assert found.breadcrumbs[-1].endswith("WARNING shop.cache miss for cart 81723")
    assert len(found.breadcrumbs) == 3


def test_an_error_far_before_the_end_of_a_log_is_found() -> None:
    lines = ["INFO boot"] * 10 + ["Traceback (most recent call last):",
                                  '  File "/x/a.py", line 1, in f', "    f()", "OSError: disk"]
    lines += [f"INFO request {n} ok" for n in range(5000)]
    found = last_log_error(io.BytesIO("\n".join(lines).encode()))
    assert found is not None and found.error.message == "disk"
    assert found.breadcrumbs == ["INFO boot"] * 10


def test_no_error_in_a_log() -> None:
    assert last_log_error(io.BytesIO(b"INFO all good\nINFO still good\n")) is None
    assert text_error("just words") is None
    assert last_error([]) is None


def test_long_lines_are_cut_dropping_the_word_cut_through() -> None:
    data = b"head " + b"A" * 100 + b"\nnext\n\xff\xfe bad bytes\n"
    assert list(iter_lines(io.BytesIO(data), 20)) == ["head […]", "next", "\ufffd\ufffd bad bytes"]
