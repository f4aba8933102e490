"""Bench: `calctl migrate order --check` (cold and warm cache) beside squawk, same files.

Generates a corpus of N migration files (tables with foreign keys to earlier
tables, indexes, SQL functions, views), then times, as whole processes:

* calctl cold  — empty state directory (every file parsed; worker processes)
* calctl warm  — the same run again (parse cache and result cache hit)
* calctl 1 edit — one file changed: the rest comes from the parse cache
* squawk       — `squawk FILE…` (PyPI squawk-cli, a Rust PostgreSQL linter)

and the cold time for 10,000 files against 2,000; then the 2,000-file measures again
beside a busy process (one more process spinning on a core: a CI runner's neighbour,
a build). Each figure is the median of
``--repeat`` runs (default 3), wall time (until the command has ended and its output is
complete) and CPU time (user + system of the command and of every process it started,
counted once they have all ended: the bench adopts what outlives the command). Targets:
cold ≤ 1.0× squawk, warm ≤ 0.5× squawk, 10,000 files ≤ 5.5× the 2,000-file time, all
on wall time.

    python bench/migrate_order.py [--files 2000] [--large 10000] [--repeat 3] [--no-busy]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


def generate(directory: Path, count: int, seed: int = 7) -> None:
    """Write ``count`` migrations; each may reference tables of earlier files."""
    rnd = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        table = f"t{i}"
        parent = f"t{rnd.randrange(i)}" if i else None
        cols = ["id bigserial PRIMARY KEY", "name text NOT NULL",
                "created_at timestamptz NOT NULL DEFAULT now()"]
        if parent:
            cols.append(f"{parent}_id bigint REFERENCES {parent} (id)")
        parts = [f"CREATE TABLE {table} (\n  " + ",\n  ".join(cols) + "\n);",
                 f"CREATE INDEX {table}_name_idx ON {table} (name);",
                 f"CREATE FUNCTION {table}_count() RETURNS bigint LANGUAGE sql STABLE\n"
                 f"AS $$ SELECT count(*) FROM {table} $$;"]
        if parent:
            parts.append(f"CREATE VIEW {table}_v AS\nSELECT a.id, a.name, b.name AS parent\n"
                         f"FROM {table} a JOIN {parent} b ON b.id = a.{parent}_id;")
        (directory / f"{i:05d}_create_{table}.sql").write_text("\n\n".join(parts) + "\n",
                                                               encoding="utf-8")


ENV: dict[str, str] = dict(os.environ)


def use_own_key(work: Path) -> None:
    """Seal the caches with a key made for the bench (its config directory in ``work``),
    not the user's own; made beforehand, as on any machine after its first run."""
    key = work / "config" / "calctl" / "state.key"
    key.parent.mkdir(parents=True)
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, os.urandom(32))
    os.close(fd)
    ENV.pop("CALCTL_KEY_FILE", None)
    ENV["XDG_CONFIG_HOME"] = str(work / "config")


def adopt_orphans() -> None:
    """Become the subreaper of everything the measured commands start (Linux): a process
    that outlives its command — calctl's early child ends a few ms after the command —
    is then reaped here, and its CPU time counted, before the next measurement."""
    import ctypes

    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) != 0:
        sys.exit("cannot become a subreaper: the CPU of a process outliving its command "
                 "would not be counted")


class Busy:
    """A process spinning on one core, started paused, run while :meth:`on`.

    Started through a launcher that exits at once, so the spinner is not this
    process's child: its CPU is never counted among the commands' (``RUSAGE_CHILDREN``),
    and waiting for what a command left running never waits for it. Must be made
    before :func:`adopt_orphans` (as the subreaper, the orphan would be this process's
    own again)."""

    def __init__(self) -> None:
        # it spins while this process lives (checked every few ms), should this one be
        # killed before it could end the spinner
        spin = (f"import os\nwhile True:\n    for _ in range(100_000): pass\n"
                f"    os.kill({os.getpid()}, 0)")
        launcher = ("import subprocess, sys\n"
                    f"p = subprocess.Popen([sys.executable, '-c', {spin!r}],"
                    " start_new_session=True, stdin=subprocess.DEVNULL,"
                    " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
                    "print(p.pid)")
        out = subprocess.run([sys.executable, "-c", launcher], capture_output=True,
                             text=True, check=True).stdout
        self.pid = int(out)
        os.kill(self.pid, signal.SIGSTOP)

    @contextlib.contextmanager
    def on(self) -> Iterator[None]:
        os.kill(self.pid, signal.SIGCONT)
        time.sleep(0.2)  # spinning before the first measure
        try:
            yield
        finally:
            os.kill(self.pid, signal.SIGSTOP)

    def end(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def run(command: list[str]) -> tuple[float, float]:
    """Wall time until the command ends (its output complete), and the CPU time (user +
    system) of it and of every process it started, counted when all have ended."""
    import resource

    def cpu() -> float:
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        return used.ru_utime + used.ru_stime

    before = cpu()
    start = time.perf_counter()
    proc = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"{command[0]} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    while True:  # what it left running (adopted here): wait for it before going on
        try:
            os.wait()
        except ChildProcessError:
            break
    return elapsed, cpu() - before


def compile_calctl() -> None:
    """Write the bytecode of calctl's modules, as installing a wheel does: from a source
    checkout, with PYTHONDONTWRITEBYTECODE set (as in some containers), every run would
    otherwise compile each module edited since its last .pyc — not calctl's own time."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("calctl")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            compileall.compile_dir(location, quiet=1)


def calctl_command() -> list[str]:
    script = Path(sys.executable).parent / "calctl"
    return [str(script)] if script.exists() else [sys.executable, "-m", "calctl"]


def squawk_command() -> list[str]:
    found = shutil.which("squawk") or str(Path(sys.executable).parent / "squawk")
    if not Path(found).exists():
        sys.exit("squawk not found: pip install squawk-cli (it is in calctl's dev extra)")
    return [found]


def measure(directory: Path, work: Path, repeat: int, label: str = ""
            ) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) of each run kind over ``repeat`` rounds."""
    files = sorted(str(p) for p in directory.glob("*.sql"))
    runs: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "edited": [],
                                                  "squawk": []}
    middle = Path(files[len(files) // 2])
    original = middle.read_text(encoding="utf-8")
    for n in range(repeat):
        state = work / f"state-{directory.name}{label}-{n}"
        order = [*calctl_command(), "--state-dir", str(state), "migrate", "order",
                 str(directory), "--check"]
        runs["cold"].append(run(order))
        runs["warm"].append(run(order))
        # one file edited: every other analysis comes from the parse cache
        middle.write_text(original + f"-- edit {n}\n", encoding="utf-8")
        try:
            runs["edited"].append(run(order))
        finally:
            middle.write_text(original, encoding="utf-8")
        runs["squawk"].append(run([*squawk_command(), *files]))
    return {kind: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
            for kind, got in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-busy", action="store_true",
                        help="skip the measures beside a busy process")
    args = parser.parse_args()
    compile_calctl()
    busy = None if args.no_busy else Busy()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # ends the spinner too
    adopt_orphans()
    try:
        with tempfile.TemporaryDirectory(prefix="calctl-bench-") as tmp:
            work = Path(tmp)
            use_own_key(work)
            small, large = work / f"m{args.files}", work / f"m{args.large}"
            generate(small, args.files)
            generate(large, args.large)
            a = measure(small, work, args.repeat)
            b = measure(large, work, max(1, args.repeat // 2))
            if busy is not None:
                with busy.on():
                    c = measure(small, work, args.repeat, "-busy")
    finally:
        if busy is not None:
            busy.end()
    n, big = args.files, args.large
    rows = [
        (f"calctl cold, {n} files", a["cold"], a["squawk"], "≤ 1.0× squawk (wall)"),
        (f"calctl warm, {n} files", a["warm"], a["squawk"], "≤ 0.5× squawk (wall)"),
        (f"calctl 1 edit, {n} files", a["edited"], a["squawk"], "vs squawk"),
        (f"squawk, {n} files", a["squawk"], a["squawk"], ""),
        (f"calctl cold, {big} files", b["cold"], a["cold"], f"≤ 5.5× cold {n} (wall)"),
        (f"calctl warm, {big} files", b["warm"], b["squawk"], "vs squawk"),
        (f"calctl 1 edit, {big} files", b["edited"], b["squawk"], "vs squawk"),
        (f"squawk, {big} files", b["squawk"], b["squawk"], ""),
    ]
    if busy is not None:
        rows += [
            (f"busy: calctl cold, {n} files", c["cold"], c["squawk"], "≤ 1.0× squawk (wall)"),
            (f"busy: calctl warm, {n} files", c["warm"], c["squawk"], "≤ 0.5× squawk (wall)"),
            (f"busy: squawk, {n} files", c["squawk"], c["squawk"], ""),
        ]
    print(f"{'measure':<30} {'wall s':>7} {'ratio':>7} {'CPU s':>7} {'ratio':>7}  target")
    for name, (wall, cpu), (base_wall, base_cpu), target in rows:
        print(f"{name:<30} {wall:>7.3f} {wall / base_wall:>6.2f}× {cpu:>7.3f} "
              f"{cpu / base_cpu:>6.2f}×  {target}")

if __name__ == "__main__":
    main()
