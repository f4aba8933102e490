"""Behaviour-identity harness (issue 11): record what calctl prints, compare after a change.

Part A runs the real `calctl` (beside ``sys.executable``) on ~100 directory/settings
combinations: `migrate order` (--json, text, --check), `migrate lint` (--json, github,
sarif) — cold (fresh state dir), warm (same state dir: the replay) and cold with
CALCTL_SERIAL=1 — recording exit codes, stdout and stderr. Part B records the
per-file analysis of every corpus .sql file, in process. Inputs (corpora, fixtures,
synthetic directories) come from this script's checkout; calctl from the interpreter.

    python bench/equivalence.py --record base.json.gz [--quick]
    python bench/equivalence.py --compare base.json.gz [--quick]   # exit 1 on a difference
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import difflib
import gzip
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

FACT_FIELDS = ("action", "kind", "names", "line", "column", "display", "guarded", "new", "open")
SUMMARY_FIELDS = ("refs", "columns", "changes")


# ------------------------------------------------------------------ the adapter (Part B)
# Restructurings that change analyse()'s signature or FileAnalysis's representation update
# only this function, and the canonical form must stay identical.
def analysis_record(text: str, path: str, search_path: tuple[str, ...],
                    defines: dict[str, str] | None) -> dict[str, Any]:
    from calctl.sql.analyse import analyse
    from calctl.sql.facts import AnalysisInput

    result = analyse(AnalysisInput.of(text, path, search_path, defines))

    def fact(f: Any) -> dict[str, Any]:  # a 9-tuple today; named fields later
        values = [getattr(f, n) for n in FACT_FIELDS] if hasattr(f, "action") else list(f)
        return dict(zip(FACT_FIELDS, (plain(v) for v in values), strict=True))

    summary = result.summary
    return {
        "facts": [fact(f) for f in result.facts],
        "notes": [plain(n) for n in result.notes],
        "spans": [plain(s) for s in result.spans],
        "file_ignores": plain(result.file_ignores),
        "approximate": result.approximate,
        "transaction": result.transaction,
        "statements": result.statements,
        "summary": None if summary is None else {
            # (positions in the facts since 34; the facts themselves before)
            name: [fact(result.facts[f] if isinstance(f, int) else f) for f in part]
            for name, part in zip(SUMMARY_FIELDS, summary, strict=True)},
    }


def plain(value: Any) -> Any:
    """namedtuples and dataclasses → dicts by field name; tuples → lists; recursively."""
    if hasattr(value, "_fields"):
        return {k: plain(getattr(value, k)) for k in value._fields}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


# ------------------------------------------------------------------ inputs
HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPORA = Path(os.environ.get("CALCTL_CORPORA", REPO.parent / "shared" / "corpora"))
SMALL = ("shop", "example-shop", "features", "harbor", "temporal",
         "misordered-harbor", "misordered-temporal")
SETTINGS: dict[str, list[str]] = {
    "plain": [],
    "search-path": ["--search-path", "app,public"],
    "define": ["--define", "schema=app", "--define", "owner=calctl"],
    "assume": ["--assume-exists", "schema_migrations", "--assume-exists", "auth.users"],
    "exclude": ["--exclude", "*5*", "--exclude", "*_v1_0_1*"],
    "glob": ["--glob", "*.sql", "--exclude", "*down*"],
    "mixed": ["--search-path", "app,public", "--assume-exists", "schema_migrations",
              "--define", "schema=app", "--fail-on", "warning"],
}
QUICK_SETTINGS = ("plain", "define", "mixed")
EXTRA = {"harbor/up-glob": ("harbor", ["--glob", "*.up.sql", "--assume-exists",
                                       "schema_migrations", "--fail-on", "warning"]),
         "features/everything": ("features", [*SETTINGS["mixed"], "--define", "owner=x",
                                              "--exclude", "*cycle*"])}
COMMANDS = {
    "order-json": ["order", "--json"], "order-text": ["order"], "order-check": ["order", "--check"],
    "lint-json": ["lint", "--json"], "lint-github": ["lint", "--format", "github"],
    "lint-sarif": ["lint", "--format", "sarif"],
}


def _creators_after_users(src: Path, dest: Path, count: int = 5) -> None:
    """Copy ``src``, renaming ``count`` files that create a table to sort right after
    the first later file that names it (text search, independent of calctl)."""
    files = sorted(p.relative_to(src).as_posix() for p in src.rglob("*.sql"))
    texts = {f: (src / f).read_text(encoding="utf-8", errors="replace") for f in files}
    create = re.compile(r"CREATE TABLE\s+(?:IF NOT EXISTS\s+)?(?:\w+\.)?\"?(\w+)", re.I)
    moves: dict[str, str] = {}
    for i, name in enumerate(files):
        for table in create.findall(texts[name])[:1]:
            word = re.compile(rf"\b{re.escape(table)}\b")
            user = next((u for u in files[i + 1:] if word.search(texts[u])), None)
            if user and user not in moves and len(moves) < count:
                stem = Path(user).name.partition(".")[0]
                moves[name] = f"{Path(user).parent.as_posix()}/{stem}_zz_{Path(name).name}"
    for name in files:
        target = dest / moves.get(name, name).lstrip("./")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(texts[name], encoding="utf-8")


def _scrambled(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True)
    rnd = random.Random(11)
    for p in sorted(src.rglob("*.sql")):
        (dest / f"{rnd.randrange(16**8):08x}_m.sql").write_bytes(p.read_bytes())


def prepare(work: Path) -> dict[str, Path]:
    """The directories of Part A (those outside ``work`` are only read)."""
    real = CORPORA / "real"
    dirs = {"trigger": real / "triggerdotdev__trigger.dev", "harbor": real / "goharbor__harbor",
            "temporal": real / "temporalio__temporal", "hatchet": real / "hatchet-dev__hatchet",
            "calos": CORPORA / "calos-agent-router"}
    pg = work / "pg-regression"  # every third file: the whole suite takes ~10 s a run
    pg.mkdir()
    for p in sorted((CORPORA / "pg-regression").glob("*.sql"))[::3]:
        shutil.copy(p, pg / p.name)
    dirs["pg-regression"] = pg
    shutil.copytree(REPO / "tests" / "fixtures" / "migrations" / "shop", work / "shop")
    shutil.copytree(REPO / "examples" / "shop", work / "example-shop")
    shutil.copytree(REPO / "migrations", work / "repo-migrations")
    dirs.update(shop=work / "shop", **{"example-shop": work / "example-shop",
                                       "repo-migrations": work / "repo-migrations"})
    # a small directory touching every rule and setting
    shutil.copytree(HERE / "equivalence_features", work / "features")
    dirs["features"] = work / "features"
    for name in ("harbor", "calos", "temporal"):
        _creators_after_users(dirs[name], work / f"misordered-{name}")
        dirs[f"misordered-{name}"] = work / f"misordered-{name}"
    _scrambled(dirs["temporal"], work / "scrambled-temporal")
    dirs["scrambled-temporal"] = work / "scrambled-temporal"
    return dirs


def combinations(dirs: dict[str, Path], quick: bool) -> dict[str, tuple[str, list[str]]]:
    combos = {f"{d}/{s}": (d, flags) for d in dirs for s, flags in SETTINGS.items()
              if not quick or (d in SMALL and s in QUICK_SETTINGS)}
    return combos if quick else {**combos, **EXTRA}


# ------------------------------------------------------------------ running
class Runner:
    def __init__(self, work: Path, dirs: dict[str, Path]) -> None:
        self.work, self.dirs, self.texts = work, dirs, {}
        script = Path(sys.executable).parent / "calctl"
        self.calctl = [str(script)] if script.exists() else [sys.executable, "-m", "calctl"]
        key = work / "config" / "calctl" / "state.key"  # a key of its own, not the user's
        key.parent.mkdir(parents=True)
        key.write_bytes(os.urandom(32))
        key.chmod(0o600)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("CALCTL_") and k not in ("FORCE_COLOR", "NO_COLOR")}
        self.env.update(XDG_CONFIG_HOME=str(work / "config"), COLUMNS="200", TERM="dumb")
        self.count = 0

    def norm(self, text: str) -> str:
        for old, new in ((str(self.work), "<WORK>"), (str(CORPORA), "<CORPORA>")):
            text = text.replace(old, new)
        return re.sub(r"<WORK>/st-\w+", "<STATE>", text)

    def keep(self, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()
        self.texts[digest] = text
        return digest

    def run(self, args: list[str], state: Path, cwd: Path, serial: bool = False) -> list[Any]:
        env = {**self.env, "CALCTL_SERIAL": "1"} if serial else self.env
        proc = subprocess.run([*self.calctl, "--state-dir", str(state), *args], cwd=cwd,
                              env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        self.count += 1
        return [proc.returncode, self.keep(self.norm(proc.stdout)),
                self.keep(self.norm(proc.stderr))]

    def combo(self, cid: str, dname: str, flags: list[str], cmd: str) -> dict[str, Any]:
        args = ["migrate", *COMMANDS[cmd]]
        lint_only = ["--fail-on", "warning"]
        for i in range(len(flags)):  # --fail-on belongs to lint alone
            if flags[i:i + 2] != lint_only or args[1] == "lint":
                continue
            flags = flags[:i] + flags[i + 2:]
            break
        project = dname == "example-shop"  # the config file names the directory
        cwd = self.dirs[dname] if project else self.work
        args += flags if project else [str(self.dirs[dname]), *flags]
        state = Path(tempfile.mkdtemp(prefix="st-", dir=self.work))
        out = {"cold": self.run(args, state, cwd)}
        out["warm"] = self.run(args, state, cwd)
        out["serial"] = self.run(args, Path(tempfile.mkdtemp(prefix="st-", dir=self.work)),
                                 cwd, serial=True)
        shutil.rmtree(state, ignore_errors=True)
        return out


def part_a(work: Path, quick: bool, jobs: int) -> tuple[dict[str, Any], dict[str, str]]:
    dirs = prepare(work)
    runner = Runner(work, dirs)
    combos = combinations(dirs, quick)
    result: dict[str, Any] = {cid: {} for cid in combos}
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(runner.combo, cid, d, flags, cmd): (cid, cmd)
                   for cid, (d, flags) in combos.items() for cmd in COMMANDS}
        for future in concurrent.futures.as_completed(futures):
            cid, cmd = futures[future]
            result[cid][cmd] = future.result()
    state = work / "st-rules"
    result["rules"] = {"rules-json": {"cold": runner.run(["migrate", "rules", "--json"],
                                                         state, work)},
                       "rules-text": {"cold": runner.run(["migrate", "rules"], state, work)}}
    print(f"part A: {len(combos)} combinations, {runner.count} runs", file=sys.stderr)
    return result, runner.texts


def part_b(quick: bool) -> dict[str, Any]:
    files = sorted(CORPORA.rglob("*.sql"))
    if quick:
        files = files[::10]
    out: dict[str, Any] = {}
    for p in files:
        rel = p.relative_to(CORPORA).as_posix()
        text = p.read_text(encoding="utf-8", errors="replace")
        out[rel] = analysis_record(text, rel, ("public",), None)
        out[rel + " [app,public; schema=app]"] = analysis_record(
            text, rel, ("app", "public"), {"schema": "app", "owner": "calctl"})
    print(f"part B: {len(files)} files", file=sys.stderr)
    return out


# ------------------------------------------------------------------ record / compare
class Differences(list[str]):
    """Each difference: where, what, and a short diff — printed once: the same change seen
    again (the warm and serial runs, the other settings) only names the first place."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, str] = {}

    def add(self, where: str, what: str, old: str | None = None, new: str | None = None,
            limit: int = 20) -> None:
        if old is None or new is None:
            self.append(f"{where}: {what}")
            return
        lines = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "baseline",
                                          "now", lineterm="", n=1))
        body = "\n".join("    " + line for line in lines[:limit])
        if len(lines) > limit:
            body += f"\n    … {len(lines) - limit} more diff lines"
        first = self.seen.setdefault(body, where)
        self.append(f"{where}: {what}" + (f" (same diff as {first})" if first != where
                                          else "\n" + body))


def compare(base: dict[str, Any], now: dict[str, Any]) -> list[str]:
    diffs = Differences()
    old_texts, new_texts = base["texts"], now["texts"]
    for cid, cmds in now["part_a"].items():
        for cmd, runs in cmds.items():
            for run, (code, out, err) in runs.items():
                where = f"A {cid} {cmd} ({run})"
                ref = base["part_a"].get(cid, {}).get(cmd, {}).get(run)
                if ref is None:
                    diffs.add(where, "not in the baseline")
                    continue
                if ref[0] != code:
                    diffs.add(where, f"exit {ref[0]} → {code}")
                for name, a, b in (("stdout", ref[1], out), ("stderr", ref[2], err)):
                    if a != b:
                        diffs.add(where, f"{name} differs", old_texts[a], new_texts[b])
    for rel, record in now["part_b"].items():
        ref = base["part_b"].get(rel)
        if ref != record:
            fields = [k for k in record if ref is None or ref.get(k) != record[k]]
            diffs.add(f"B {rel}", f"{', '.join(fields)} differ",
                      json.dumps(ref, indent=1, sort_keys=True),
                      json.dumps(record, indent=1, sort_keys=True))
    if base["quick"] == now["quick"]:
        for rel in sorted(set(base["part_b"]) - set(now["part_b"])):
            diffs.add(f"B {rel}", "in the baseline, not analysed now")
    return diffs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--record", type=Path, metavar="FILE")
    action.add_argument("--compare", type=Path, metavar="FILE")
    parser.add_argument("--quick", action="store_true", help="~20 combinations, 1/10 of files")
    parser.add_argument("--jobs", type=int, default=2, help="calctl runs at once (default 2)")
    parser.add_argument("--skip-a", action="store_true", help="Part B only")
    args = parser.parse_args()
    if not (args.record or args.compare):  # `make bench` runs every script without arguments
        print("equivalence: nothing to do without --record FILE or --compare FILE "
              "(see bench/README.md)")
        return 0
    base = None
    if args.compare:
        with gzip.open(args.compare, "rt", encoding="utf-8") as fh:
            base = json.load(fh)
    import calctl

    print(f"calctl from {Path(calctl.__file__).parent}; inputs from {REPO}", file=sys.stderr)
    start = time.perf_counter()
    record: dict[str, Any] = {"format": 1, "quick": args.quick, "part_b": part_b(args.quick)}
    work = Path(tempfile.mkdtemp(prefix="calctl-equiv-"))
    try:
        a, texts = ({}, {}) if args.skip_a else part_a(work, args.quick, args.jobs)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    record.update(part_a=a, texts=texts)
    print(f"{time.perf_counter() - start:.0f} s", file=sys.stderr)
    if args.record:
        with gzip.open(args.record, "wt", encoding="utf-8") as fh:
            json.dump(record, fh, sort_keys=True)
        print(f"recorded {args.record}")
        return 0
    assert base is not None
    diffs = compare(base, record)
    for line in diffs:
        print(line)
    print(f"{len(diffs)} differences" if diffs else
          f"identical: {len(a) - ('rules' in a)} combinations + migrate rules, "
          f"{len(record['part_b'])} analyses")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
