"""ANALYSER_VERSION is bumped whenever the analysis or what `migrate order/lint` print
may change: a hash of those sources is recorded beside it, and this test fails until both
are updated together (cached analyses, plans and outputs of an older version are then
ignored, instead of being replayed from a calctl that would say something else)."""

from __future__ import annotations

from pathlib import Path

from calctl.sql import facts

SRC = Path(facts.__file__).resolve().parents[1]


def sources_hash() -> str:
    from hashlib import blake2b

    paths = sorted((SRC / "sql").rglob("*.py"))
    paths += sorted((SRC / "cli" / "migrate").rglob("*.py"))  # the order/lint renderers
    paths += [SRC / "cli" / name for name in ("_styled.py", "_problem_formats.py")]
    paths += [SRC / "terminal.py", SRC / "output.py"]
    digest = blake2b(digest_size=8)
    for path in paths:
        if path.exists():
            digest.update(path.relative_to(SRC).as_posix().encode() + b"\0")
            # the recorded hash itself is not hashed
            text = b"".join(line for line in path.read_bytes().splitlines(keepends=True)
                            if not line.startswith(b"ANALYSER_SOURCES ="))
            digest.update(text + b"\0")
    return digest.hexdigest()


def test_the_analyser_version_was_bumped_with_its_sources() -> None:
    found = sources_hash()
    assert found == facts.ANALYSER_SOURCES, (
        "sql/ or the migrate renderers changed: if what the analysis extracts or what "
        "`migrate order/lint` print may differ, bump ANALYSER_VERSION; then set "
        f'ANALYSER_SOURCES = "{found}" in src/calctl/sql/facts.py')
