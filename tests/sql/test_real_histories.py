"""Issue 12's protocol on every real history in ../shared/corpora/real (bench/corpora.py
holds it and prints the whole table, scrambled included): intact — `--check` passes,
nothing moves, the plan applies; injected — creators renamed after their first user are
each named by `--check`, and the plan applies to the same schema."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from support import ROOT, corpus


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_corpora", ROOT / "bench" / "corpora.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


corpora = _bench()
NAMES = ["goharbor__harbor", "hatchet-dev__hatchet", "temporalio__temporal",
         "triggerdotdev__trigger.dev"]


def test_every_real_history_is_measured() -> None:
    real = corpus("real")
    assert {d.name for d in real.iterdir() if d.is_dir()} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_intact_and_injected_history(name: str, pg_server_url: str, tmp_path: Path) -> None:
    corpus(f"real/{name}")
    row = corpora.measure(name, pg_server_url, tmp_path, seed=12, scrambled=False)
    assert row.full_exit in (0, 1), row.notes  # hatchet: all 224 files, no crash
    assert (row.intact_exit, row.intact_moves) == (0, 0), row.notes
    assert row.intact_applied == row.files, row.notes
    assert row.injected_exit == 1, row.notes
    assert row.injected == min(corpora.INJECTED, row.injected) and row.injected >= 4
    assert row.injected_named == row.injected, row.notes
    assert row.injected_applied == row.files, row.notes
    assert row.same_schema, row.notes
