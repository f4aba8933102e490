"""Bench: apply + verify(`true`) + rollback of a 3-file patch, small vs large repository.

The cost of a patch must not grow with the repository: nothing in apply, verify or
rollback may walk the tree. Target: time(20,000 files) / time(10 files) <= 1.5.

    python bench/patch.py [--runs N] [--files N]

Runs the core functions in-process (real files, real SQLite audit store, real
event log, a real `true` subprocess) and, for reference, the real CLI once per
repository. Prints a table; exits 1 when the ratio is over the target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from calctl.config import Settings
from calctl.documents import Patch
from calctl.events.log import EventLog
from calctl.patch.apply import ApplyOptions, apply_patch
from calctl.patch.context import PatchEnv
from calctl.patch.parse import parse_patch_text
from calctl.patch.records import Trail
from calctl.patch.rollback import rollback_patch
from calctl.state import StateDir
from calctl.store import open_store

TARGET = 1.5


def make_repo(root: Path, files: int) -> None:
    (root / "calctl.toml").write_text("")
    per_dir = 200
    for i in range(files):
        directory = root / "src" / f"pkg{i // per_dir:03d}"
        if i % per_dir == 0:
            directory.mkdir(parents=True, exist_ok=True)
        (directory / f"mod{i:05d}.py").write_text(
            f"# module {i}\n\ndef value():\n    return {i}\n")


def patch_for() -> Patch:
    edits = [{"op": "replace", "path": f"src/pkg000/mod{i:05d}.py",
              "search": f"    return {i}\n", "replace": f"    return {i} + 1\n"}
             for i in (1, 2, 3)]
    return parse_patch_text(json.dumps({"kind": "patch", "version": 1,
                                        "description": "bench", "edits": edits}))


class Subject:
    """One repository with its settings, audit store and event log opened once."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings.resolve({}, cwd=root, env={})
        self.store = open_store(self.settings)
        self.events = EventLog(StateDir(self.settings.state_dir).ensure().events_path,
                               self.store)
        self.trail = Trail(self.store, self.events)
        self.env = PatchEnv.from_settings(self.settings)
        self.patch = patch_for()
        self.options = ApplyOptions(verify=("true",))
        self.times: list[float] = []

    def once(self) -> None:
        start = time.perf_counter()
        result = apply_patch(self.patch, self.settings, self.options, self.trail)
        assert result.status == "verified", result
        undone = rollback_patch(self.env, result.patch_id, trail=self.trail)
        assert undone.status == "rolled_back", undone
        self.times.append(time.perf_counter() - start)

    def close(self) -> None:
        self.events.close()
        self.store.close()


def time_cli(root: Path) -> float:
    script = Path(sys.executable).parent / "calctl"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "calctl"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    doc = json.dumps(patch_for().to_dict())
    start = time.perf_counter()
    out = subprocess.run([*argv, "patch", "apply", "-", "--json", "--verify", "true"],
                         cwd=root, input=doc, capture_output=True, text=True, env=env,
                         check=True).stdout
    subprocess.run([*argv, "patch", "rollback", json.loads(out)["patch_id"]], cwd=root,
                   capture_output=True, env=env, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--files", type=int, default=20_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="calctl-bench-") as tmp:
        roots = []
        for files in (10, args.files):
            root = Path(tmp) / f"repo{files}"
            root.mkdir()
            make_repo(root, files)
            roots.append((files, root))
        subjects = [Subject(root) for _, root in roots]
        try:
            # Interleaved, so that load from elsewhere on the machine hits both alike;
            # the first round warms caches and is dropped.
            for _ in range(args.runs + 1):
                for subject in subjects:
                    subject.once()
        finally:
            for subject in subjects:
                subject.close()
        for (files, root), subject in zip(roots, subjects, strict=True):
            times = subject.times[1:]
            rows.append((files, statistics.median(times), min(times), time_cli(root)))
    small, large = rows[0][1], rows[1][1]
    ratio = large / small
    print(f"{'repository':>12} | {'median ms':>9} | {'min ms':>7} | {'CLI ms':>7}")
    print(f"{'-' * 12}-+-{'-' * 9}-+-{'-' * 7}-+-{'-' * 7}")
    for files, median, best, cli in rows:
        print(f"{files:>6} files | {median * 1000:9.1f} | {best * 1000:7.1f} | {cli * 1000:7.1f}")
    verdict = "ok" if ratio <= TARGET else "OVER TARGET"
    print(f"ratio large/small (median, apply+verify+rollback): {ratio:.2f} "
          f"(target <= {TARGET}) {verdict}")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
