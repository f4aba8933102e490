"""Bench: one large seed-data migration — `calctl migrate order` cold beside squawk.

Generates one migration of a CREATE TABLE and 25,000 ``INSERT … VALUES`` of 20 rows each
(21 MB; ``--size-mb`` scales the number of statements), then runs, as whole processes,
`calctl migrate order` with an empty state directory and `squawk FILE`, reporting wall
time and peak resident memory (``os.wait4``'s rusage of the process and the children it
waited for). Targets (issue 11): ≤ 1.0× squawk's time, ≤ 1.5× its peak memory; a
200 MB file (``--size-mb 200``) must not exhaust the machine.

    python bench/large_file.py [--size-mb 21] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = 20
STATEMENTS_PER_21_MB = 25_000

sys.path.insert(0, str(Path(__file__).resolve().parent))
from migrate_order import ENV, calctl_command, squawk_command, use_own_key  # noqa: E402


def generate(path: Path, statements: int) -> int:
    """Write the seed migration; return its size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write("CREATE TABLE seed_data (\n  id bigint PRIMARY KEY,\n  email text NOT NULL,\n"
                 "  amount numeric(12, 2)\n);\n\n")
        n = 0
        for _ in range(statements):
            rows = []
            for _ in range(ROWS):
                n += 1
                rows.append(f"  ({n}, 'user{n}@x.org', {n % 1000}.{n % 100:02d})")
            fh.write("INSERT INTO seed_data (id, email, amount) VALUES\n"
                     + ",\n".join(rows) + ";\n")
    return path.stat().st_size


def measure(command: list[str]) -> tuple[float, float, float, int]:
    """Wall seconds, CPU seconds, peak RSS in MB and exit code of one run."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, env=ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            err.seek(0)
            print(f"{command[0]} exited {code}: {err.read().decode()[-400:]}", file=sys.stderr)
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=21.0)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    statements = max(1, round(STATEMENTS_PER_21_MB * args.size_mb / 21))
    with tempfile.TemporaryDirectory(prefix="calctl-large-") as tmp:
        work = Path(tmp)
        use_own_key(work)
        seed = work / "migrations" / "001_seed_data.sql"
        size = generate(seed, statements)
        print(f"{seed.name}: {size / 1e6:.1f} MB, {statements} INSERT statements of {ROWS} rows")
        figures: dict[str, list[tuple[float, float, float, int]]] = {"calctl": [],
                                                                      "squawk": []}
        for n in range(args.repeat):
            figures["calctl"].append(measure([*calctl_command(), "--state-dir",
                                              str(work / f"state-{n}"), "migrate", "order",
                                              str(seed.parent)]))
            figures["squawk"].append(measure([*squawk_command(), str(seed)]))
    med = {k: (*(statistics.median(r[i] for r in v) for i in range(3)), v[-1][3])
           for k, v in figures.items()}
    sq_wall, sq_cpu, sq_mem, _ = med["squawk"]
    print(f"{'run':<28} {'wall s':>7} {'ratio':>6} {'CPU s':>7} {'ratio':>6} "
          f"{'peak MB':>8} {'ratio':>6} {'exit':>4}")
    for name, label in (("calctl", "calctl migrate order, cold"), ("squawk", "squawk")):
        wall, cpu, mem, code = med[name]
        print(f"{label:<28} {wall:>7.2f} {wall / sq_wall:>5.2f}× {cpu:>7.2f} "
              f"{cpu / sq_cpu:>5.2f}× {mem:>8.0f} {mem / sq_mem:>5.2f}× {code:>4}")
    print("target: calctl ≤ 1.0× squawk's (wall) time and ≤ 1.5× its peak memory; "
          "CPU is the steadier figure on a busy machine")


if __name__ == "__main__":
    main()
