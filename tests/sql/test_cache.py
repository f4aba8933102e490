"""The parse cache: keyed by content, settings and analyser version; warm runs parse only
what changed."""

from __future__ import annotations

from pathlib import Path

import pytest

from calctl.config import MigrateSettings
from calctl.sql.cache import ParseCache, shard_paths
from calctl.sql.facts import AnalysisInput, FileAnalysis
from calctl.sql.runtime import analyse_directory, build_plan


def _entries(cache: Path) -> dict[bytes, object]:
    return dict(ParseCache(cache).stored())


def test_warm_run_parses_only_changed_files(tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    for i in range(5):
        (d / f"{i:03d}_t{i}.sql").write_text(f"CREATE TABLE t{i} (id int);\n")
    (d / "005_comments.sql").write_text("-- only a comment\n/* and another */\n")
    (d / "006_empty.sql").write_text("")
    cache = tmp_path / "cache"
    first = analyse_directory(d, MigrateSettings(), cache_dir=cache)
    assert len(_entries(cache)) == 7
    assert first.analyses[5].facts == () and first.analyses[6].statements == 0
    (d / "002_t2.sql").write_text("CREATE TABLE t2 (id int, name text);\n")
    again = analyse_directory(d, MigrateSettings(), cache_dir=cache)
    entries = _entries(cache)
    assert len(entries) == 8  # one new parse; the other six came from the cache
    assert ("create", "column", ("public.t2.name",)) in {f[:3] for f in again.analyses[2].facts}
    other = analyse_directory(d, MigrateSettings(search_path=("app",)), cache_dir=cache)
    assert len(_entries(cache)) == 15  # other settings, other keys
    assert other.analyses[0].facts[0][2] == ("app.t0",)


def test_empty_and_comment_only_files_are_no_ops(tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "001_note.sql").write_text("-- nothing to do yet\n")
    (d / "002_empty.sql").write_text("")
    plan, files = build_plan(d, MigrateSettings(), cache_dir=None)
    assert plan.safe and plan.problems == []
    assert [f.path for f in files] == ["001_note.sql", "002_empty.sql"]


def test_unreadable_cache_is_ignored(tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "001_a.sql").write_text("CREATE TABLE a (id int);\n")
    cache = tmp_path / "cache"
    cache.mkdir()
    for path in shard_paths(cache):
        path.write_bytes(b"\x00garbage")
    plan, _ = build_plan(d, MigrateSettings(), cache_dir=cache)
    assert plan.safe
    assert len(_entries(cache)) == 1  # the shard of the new entry was rewritten


def test_parallel_analysis_matches_serial_and_fills_every_shard(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calctl.sql.analyse import analyse
    from calctl.sql.early import PARALLEL_THRESHOLD

    d = tmp_path / "m"
    d.mkdir()
    count = PARALLEL_THRESHOLD + 50
    for i in range(count):
        ref = f",\n  t{i - 1}_id int REFERENCES t{i - 1} (id)" if i else ""
        (d / f"{i:04d}_t{i}.sql").write_text(
            f"CREATE TABLE t{i} (\n  id int PRIMARY KEY{ref}\n);\n"
            f"CREATE VIEW v{i} AS SELECT id FROM t{i};\n")
    cache = tmp_path / "cache"
    monkeypatch.setenv("CALCTL_SERIAL", "0")  # forked shards even on a busy machine
    result = analyse_directory(d, MigrateSettings(), cache_dir=cache)
    expected = [analyse(AnalysisInput.of(f.text, f.path)) for f in result.files]
    assert result.analyses == expected
    assert len(_entries(cache)) == count  # children wrote their shards before we returned
    assert all(path.exists() for path in shard_paths(cache))
    again = analyse_directory(d, MigrateSettings(), cache_dir=cache)
    assert again.analyses == expected and again.resolution == result.resolution


def test_entries_a_run_found_are_saved_before_older_ones(tmp_path: Path) -> None:
    """keep() marks an entry as used by this run, as get() does: when its shard is saved
    (and trimmed to the size limit) it comes first."""
    from calctl.sql.cache import shard_of

    first = ParseCache(tmp_path)
    keys = [bytes([7, n]) + bytes(14) for n in range(3)]  # one shard (byte 0 picks it)
    for n, key in enumerate(keys):
        first.put(key, FileAnalysis((), (), (), (), False, True, n, None))
    first.save()
    again = ParseCache(tmp_path)
    assert again.keep(keys[2]) and not again.keep(bytes([7, 9]) + bytes(14))
    again.put(bytes([7, 5]) + bytes(14), FileAnalysis((), (), (), (), False, True, 5, None))
    again.save()
    assert shard_of(keys[0]) == 7
    saved = ParseCache(tmp_path).stored()
    assert list(saved)[:2] == [keys[2], bytes([7, 5]) + bytes(14)]  # this run's first
    assert set(saved) == {*keys, bytes([7, 5]) + bytes(14)}


def test_a_shard_of_plain_analyses_is_the_shard_of_the_analyses() -> None:
    """The early child writes what crossed the pipe (plain) without rebuilding it: the
    file must be byte for byte what the analyses themselves give, and read back as them."""
    import orjson

    from calctl.sql.analyse import analyse
    from calctl.sql.cache import decode_shard, encode_shard
    from calctl.sql.facts import to_plain

    texts = ["CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE INDEX a_i ON a (id);\n",
             "", "-- nothing\n", "ALTER TABLE a ADD COLUMN b text; -- calctl: ignore CAL001\n",
             "CREATE VIEW v AS SELECT id FROM a;\nDROP TABLE IF EXISTS z;\n", "SELEC broken;\n"]
    items = [(bytes([i]) * 16, analyse(AnalysisInput.of(t, f"{i}.sql")))
             for i, t in enumerate(texts)]
    whole = orjson.dumps(encode_shard(items))
    plain = [(key, to_plain(analysis)) for key, analysis in items]
    mixed = [(key, to_plain(analysis) if n % 2 else analysis)
             for n, (key, analysis) in enumerate(items)]
    assert orjson.dumps(encode_shard(plain)) == whole
    assert orjson.dumps(encode_shard(mixed)) == whole
    assert decode_shard(orjson.loads(whole)) == dict(items)


def test_a_summary_position_beyond_its_files_facts_is_a_bad_entry() -> None:
    """A summary holds positions in its own file's facts: one that would pick another
    file's fact of the shard (a sealed shard of another version, or our own bug) makes
    the shard unreadable, never a resolution that indexes past a file's facts."""
    import orjson

    from calctl.sql.analyse import analyse
    from calctl.sql.cache import BadEntry, decode_shard, encode_shard

    texts = ["CREATE VIEW v AS SELECT id FROM a;\n",
             "CREATE TABLE a (id bigint PRIMARY KEY);\nCREATE INDEX a_i ON a (id);\n"]
    items = [(bytes([i]) * 16, analyse(AnalysisInput.of(t, f"{i}.sql")))
             for i, t in enumerate(texts)]
    body = orjson.loads(orjson.dumps(encode_shard(items)))  # as read from the file
    first = len(items[0][1].facts)
    assert decode_shard(body) == dict(items)
    body["summary_facts"] = [first] * len(body["summary_facts"])  # the second file's first
    with pytest.raises(BadEntry, match="facts the file does not have"):
        decode_shard(body)
