"""Large inputs cost no more memory than small ones: a log of tens of MB with a line of
many MB in it, and a source file of the same size, read for the last error and the
snippet (the 1 GB figure is bench/report.py's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ERROR = ('Traceback (most recent call last):\n  File "{root}/app/prices.py", line 8, in '
         "price_of\n    return entry.price\nAttributeError: 'NoneType' object has no "
         "attribute 'price'\n")
RSS = ("import resource, subprocess, sys\n"
       "p = subprocess.run(sys.argv[1:], capture_output=True)\n"
       "sys.stderr.write(p.stderr.decode())\n"
       "print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
       "sys.stdout.write(p.stdout.decode())\n")


def write_log(path: Path, root: Path, megabytes: int, long_line_mb: int = 0) -> None:
    line = "2026-11-30 10:00:00,000 INFO shop.web GET /cart/81723 200 12ms user=42 ok\n"
    block = line * ((1 << 20) // len(line))  # about 1 MB of whole lines
    with open(path, "w", encoding="utf-8") as out:
        out.write(ERROR.format(root=root).replace("AttributeError", "ValueError"))
        for n in range(megabytes):
            out.write(block)
            if long_line_mb and n == megabytes // 2:
                out.write("x" * (long_line_mb << 20) + "\n")
        out.write(ERROR.format(root=root))
        out.write("2026-11-30 10:00:01,000 INFO shop.web shutting down\n")


def run_measured(calctl_argv: list[str], cwd: Path, *args: str) -> tuple[int, int, Any]:
    proc = subprocess.run([sys.executable, "-c", RSS, *calctl_argv, *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)
    head, _, body = proc.stdout.partition("\n")
    code, rss = map(int, head.split())
    return code, rss, json.loads(body) if body.strip() else proc.stderr


def test_a_large_log_costs_no_more_memory_than_a_small_one(
        calctl_argv: list[str], shop: Path, tmp_path: Path) -> None:
    small, big = tmp_path / "small.log", tmp_path / "big.log"
    write_log(small, shop, 1)
    write_log(big, shop, 48, long_line_mb=16)
    code, small_rss, small_doc = run_measured(calctl_argv, shop, "report", "--dry-run",
                                              "--json", "--log", str(small))
    assert code == 0, small_doc
    code, big_rss, big_doc = run_measured(calctl_argv, shop, "report", "--dry-run", "--json",
                                          "--log", str(big))
    assert code == 0, big_doc
    assert big_doc["error_type"] == "AttributeError"  # the last error, not the first
    assert big_doc["breadcrumbs"][-1]["message"].endswith("user=42 ok")
    assert big_rss <= small_rss * 1.2, (small_rss, big_rss)


def test_a_large_source_file_and_a_huge_line_make_a_bounded_snippet(
        calctl_argv: list[str], shop: Path) -> None:
    path = shop / "app" / "generated.py"
    with open(path, "w", encoding="utf-8") as out:
        for n in range(400_000):
            out.write(f"VALUE_{n} = {n}  # generated constant number {n} of the table\n")
        out.write("HUGE = '" + "y" * (24 << 20) + "'\n")
        out.write("def broken():\n    raise RuntimeError('boom')\n")
        out.write(b"\xff\xfe not utf-8 \xc3\n".decode("latin-1"))
    line = 400_000 + 3
    small = shop / "app" / "small.py"
    small.write_text("def broken():\n    raise RuntimeError('boom')\n")
    code, small_rss, _ = run_measured(calctl_argv, shop, "report", "--dry-run", "--json",
                                      "RuntimeError: boom", "--file", "app/small.py",
                                      "--line", "2")
    assert code == 0
    code, big_rss, doc = run_measured(calctl_argv, shop, "report", "--dry-run", "--json",
                                      "RuntimeError: boom", "--file", "app/generated.py",
                                      "--line", str(line))
    assert code == 0, doc
    lines = doc["snippet"]["lines"]
    assert doc["snippet"]["first_line"] == line - 5
    assert lines[5] == "    raise RuntimeError('boom')"
    assert lines[3] == "HUGE = […]" and all(len(text) <= 300 for text in lines)
    assert len(lines) == 7  # the file ends two lines after the failing one
    assert big_rss <= small_rss * 1.2, (small_rss, big_rss)
