"""No input crashes the analysis (issue 12, item 9): directories made of statements drawn
from the real histories in ../shared/corpora/real, cut into files in random order, with
statements repeated across files (the add/drop/add-again shapes that crashed resolve)."""

from __future__ import annotations

import functools
import os
import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calctl.config import MigrateSettings
from calctl.sql.runtime import build_plan
from calctl.sql.split import split
from support import corpus


@functools.cache
def histories() -> tuple[tuple[str, ...], ...]:
    """The statements of each real history, in its files' order (one tuple each)."""
    out = []
    for root in sorted(p for p in corpus("real").iterdir() if p.is_dir()):
        statements: list[str] = []
        for path in sorted(root.rglob("*.sql")):
            text = path.read_text(encoding="utf-8", errors="replace")
            statements += [s.text.strip() for s in split(text).statements
                           if len(s.text) < 2000]
        out.append(tuple(statements))
    return tuple(out)


_ADD_COLUMN = re.compile(r"ALTER\s+TABLE\s+(?:ONLY\s+)?(\S+)\s+ADD\s+(?:COLUMN\s+)?"
                         r"(?:IF\s+NOT\s+EXISTS\s+)?(\S+)", re.I)


def _files(draw: st.DrawFn) -> list[list[str]]:
    """A window of one history's statements spread over up to 6 files, some repeated in
    several files, some added columns dropped again right after (and indexed)."""
    statements = draw(st.sampled_from(histories()))
    start = draw(st.integers(0, len(statements) - 1))
    window = statements[start:start + draw(st.integers(1, 60))]
    count = draw(st.integers(1, 6))
    files: list[list[str]] = [[] for _ in range(count)]
    for text in window:
        for _ in range(draw(st.integers(1, 2))):  # the same statement in several files
            target = files[draw(st.integers(0, count - 1))]
            target.append(text)
            added = _ADD_COLUMN.match(text)
            if added and draw(st.booleans()):
                target.append(f"ALTER TABLE {added[1]} DROP COLUMN {added[2]}")
                if draw(st.booleans()):  # and used somewhere
                    files[draw(st.integers(0, count - 1))].append(
                        f"CREATE INDEX ON {added[1]} ({added[2]})")
    return files


directories = st.composite(_files)


@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(directories())
def test_statements_of_real_histories_never_crash_the_plan(files: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="calctl-fuzz-") as tmp:
        d = Path(tmp)
        for i, statements in enumerate(files):
            (d / f"{i:03d}_f.sql").write_text(";\n".join(statements) + ";\n", encoding="utf-8")
        plan, ordered = build_plan(d, MigrateSettings(), cache_dir=None)
        assert sorted(f.path for f in plan.files) == sorted(p.name for p in d.glob("*.sql"))
        assert [f.path for f in ordered] == [f.path for f in plan.files]
        assert all(p.code.startswith("CAL") for p in plan.problems)


def test_histories_hold_the_shapes_the_crash_needed() -> None:
    """Columns added (which the fuzz drops again) and indexes over columns."""
    statements = [s for h in histories() for s in h]
    assert len(histories()) >= 4
    assert sum(bool(_ADD_COLUMN.match(s)) for s in statements) > 100
    assert any(s.upper().startswith("CREATE INDEX") for s in statements)
