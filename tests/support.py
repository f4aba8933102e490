"""Plain helpers for test modules (import as ``from support import …``; conftest
modules share one import name, so helpers do not live there)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def corpus(name: str) -> Path:
    """A directory of ../shared/corpora; skipped (with the reason) where shared/ is absent."""
    path = CORPORA / name
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"corpus {path} is missing in CI")
        pytest.skip(f"corpus {path} not present (it lives in ../shared beside the clone)")
    return path


# ------------------------------------------------------------------ migrations on PostgreSQL


def apply_files(url: str, directory: Path, paths: list[str] | tuple[str, ...],
                no_transaction: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """Run each file in order; returns (path, first error line) for every failure.

    A failing file is rolled back and the rest still run, so one call shows every
    file the order breaks. Files in ``no_transaction`` run in autocommit.
    """
    import psycopg

    failures: list[tuple[str, str]] = []
    with psycopg.connect(url, autocommit=True) as conn:
        for path in paths:
            sql = (directory / path).read_text(encoding="utf-8")
            try:
                if path in no_transaction:
                    conn.execute(sql)  # type: ignore[call-overload]
                else:
                    with conn.transaction():
                        conn.execute(sql)  # type: ignore[call-overload]
            except psycopg.Error as exc:
                failures.append((path, str(exc).splitlines()[0]))
    return failures


# ------------------------------------------------------------------ files, patches, processes


def write(path: Path, text: str | bytes, mode: int | None = None) -> Path:
    """Write ``text`` at ``path`` (parents made), with ``mode`` if given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    if mode is not None:
        path.chmod(mode)
    return path


def patch_doc(*edits: dict[str, Any], description: str = "test patch") -> str:
    """A calctl ``patch`` document with these edits."""
    return json.dumps({"kind": "patch", "version": 1, "description": description,
                       "edits": list(edits)})


def entries(root: Path) -> dict[str, tuple[str, bytes | str, int]]:
    """Every file, link and directory under ``root`` (state directory excluded): what a
    refused patch must leave exactly as it was."""
    out: dict[str, tuple[str, bytes | str, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".calctl"]
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path), 0)
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", "", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", path.read_bytes(), stat.S_IMODE(st.st_mode))
    return out


def files_and_links(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its bytes and mode (a link as its target, mode -1)."""
    out: dict[str, tuple[bytes, int]] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = (os.readlink(path).encode(), -1)
        elif path.is_file():
            out[rel] = (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
    return out


def pids_with(mark: str) -> list[int]:
    """Live processes whose argv mentions ``mark``."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            argv = Path(f"/proc/{name}/cmdline").read_bytes().split(b"\0")
            state = Path(f"/proc/{name}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if any(mark.encode() in arg for arg in argv) and state not in (b"Z", b"X"):
            found.append(int(name))
    return found


def rule_cases(folder: str, pattern: str) -> list[tuple[str, dict[str, Any]]]:
    """(code, case) of every ``[[case]]`` in tests/fixtures/<folder>/<pattern> files (a
    rule's fixtures: one TOML file per rule, named after its code)."""
    import tomllib

    found = []
    for path in sorted((Path(__file__).resolve().parent / "fixtures" / folder).glob(pattern)):
        with path.open("rb") as handle:
            found += [(path.stem, case) for case in tomllib.load(handle)["case"]]
    return found


# A directory numbered in an order PostgreSQL rejects: 002 references customers, which 003
# creates (the rules provider's FIX001 case, end to end).
MISNUMBERED_SHOP = {
    "001_order_status.sql": "CREATE TYPE order_status AS ENUM ('new', 'paid');\n",
    "002_orders.sql": ("CREATE TABLE orders (\n    id bigserial PRIMARY KEY,\n"
                       "    customer_id bigint NOT NULL REFERENCES customers (id),\n"
                       "    status order_status NOT NULL DEFAULT 'new'\n);\n"),
    "003_customers.sql": "CREATE TABLE customers (id bigserial PRIMARY KEY, email text);\n",
}


SARIF_SCHEMA = ROOT / "tests" / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"


def assert_valid_sarif(log: Any) -> None:
    """``log`` is valid SARIF 2.1.0: the OASIS schema, formats (URIs) checked too."""
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(log)]
    assert not errors, errors


def migration_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    """A migration directory ``tmp_path/m`` holding ``files`` (name → SQL)."""
    d = tmp_path / "m"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_text(text, encoding="utf-8")
    return d


def assert_intact(plan: Any, order: list[str]) -> None:
    """``plan`` is that of a history whose filename order applies: safe, nothing moved,
    no error-level problem (warnings may be)."""
    assert plan.safe and plan.moves == [] and order == sorted(order)
    assert [p.code for p in plan.problems if p.severity == "error"] == []


def plan_of(d: Path) -> tuple[Any, list[str]]:
    """``migrate order``'s plan of ``d`` (no cache) and its files in execution order."""
    from calctl.config import MigrateSettings
    from calctl.sql.runtime import build_plan

    plan, files = build_plan(d, MigrateSettings(), cache_dir=None)
    return plan, [f.path for f in files]
