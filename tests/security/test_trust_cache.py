"""The migrate caches attacked for real (issue 10, items 2 and 11): a repository that
ships ``.calctl/cache/`` — a pickle that runs code, an output or a parse cache forged to
say "safe", in the old formats or sealed under someone else's key — changes nothing; a
cache of the right shape with wrongly typed fields, garbage, truncated files, links to
devices and FIFOs are misses. Every case runs the real ``calctl`` entry point on real
files, and compares with a run in a clean copy of the project.
"""

from __future__ import annotations

import marshal
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from calctl import trust
from calctl.sql.cache import (
    FORMAT,
    OUTPUT_FILE,
    RESULT_FILE,
    SHARDS,
    decode_shard,
    encode_shard,
    file_keys,
    result_key,
    shard_paths,
)

MISORDERED = {
    "010_roles.sql": "CREATE TABLE roles (id serial PRIMARY KEY, name text);\n",
    "011_admin_roles.sql": "CREATE TABLE admin_roles (\n  role_id int REFERENCES roles (id),\n"
                           "  user_id int REFERENCES users (id)\n);\n",
    "012_users.sql": "CREATE TABLE users (id serial PRIMARY KEY, email text);\n",
}
OLD_NAMES = ["migrate-results.pickle", "migrate-output.marshal",
             *(f"migrate-analysis-{n}.marshal" for n in range(SHARDS))]


def _project(root: Path) -> Path:
    (root / "migrations").mkdir(parents=True)
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n', encoding="utf-8")
    for name, body in MISORDERED.items():
        (root / "migrations" / name).write_text(body, encoding="utf-8")
    return root


def _cache(root: Path) -> Path:
    return root / ".calctl" / "cache"


def _clean_outputs(calctl: Any, tmp_path: Path, *args: str) -> tuple[int, str]:
    """What ``args`` print and return in an untouched copy of the project."""
    clean = _project(tmp_path / "clean")
    done = calctl(*args, str(clean / "migrations"), cwd=clean)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.replace(str(clean), "<root>")


def _run(calctl: Any, root: Path, *args: str, env: dict[str, str] | None = None,
         ) -> tuple[int, str]:
    done = calctl(*args, str(root / "migrations"), cwd=root, env=env, timeout=60)
    assert done.returncode != 70 and "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout.replace(str(root), "<root>")


SEAL = """
import sys
from calctl import trust
sys.stdout.buffer.write(trust.seal(sys.stdin.buffer.read(), "cache") or b"NOKEY")
"""


def _seal_as(config_home: Path, data: bytes) -> bytes:
    """``data`` sealed for the cache under the key of another user's config directory."""
    env = {k: v for k, v in os.environ.items() if k != "CALCTL_KEY_FILE"}
    env["XDG_CONFIG_HOME"] = str(config_home)
    sealed = subprocess.run([sys.executable, "-c", SEAL], input=data, capture_output=True,
                            env=env, check=True, timeout=60).stdout
    assert sealed.startswith(trust.MAGIC)
    return sealed


def _body(sealed: bytes) -> Any:
    """The JSON inside a sealed cache file, read as an attacker would (no key needed)."""
    return orjson.loads(sealed.split(b"\n", 1)[1])


# ---------------------------------------------------------------- (a) code on load


class Payload:
    """Unpickling this runs a shell command (what a committed pickle can do)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("fresh_machine", [True, False])
def test_a_committed_pickle_never_runs(calctl: Any, tmp_path: Path,
                                       fresh_machine: bool) -> None:
    root = _project(tmp_path / "repo")
    marker = tmp_path / "PWNED"
    payload = pickle.dumps(Payload(marker))
    cache = _cache(root)
    cache.mkdir(parents=True)
    # every cache name calctl ever used, old and new, holds the payload
    for name in [*OLD_NAMES, RESULT_FILE, OUTPUT_FILE, *(p.name for p in shard_paths(cache))]:
        (cache / name).write_bytes(payload)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "ci-config")} if fresh_machine else None
    for args in (("migrate", "order"), ("migrate", "order", "--check"),
                 ("migrate", "lint"), ("migrate", "order", "--json")):
        expected = _clean_outputs(calctl, tmp_path / "-".join(args), *args)
        assert _run(calctl, root, *args, env=env) == expected
        assert _run(calctl, root, *args, env=env) == expected  # and warm
        assert not marker.exists()
    assert (cache / "migrate-results.pickle").read_bytes() == payload  # never even rewritten


# ---------------------------------------------------------------- (b) forged results


def _attacker_cache(calctl: Any, tmp_path: Path, *args: str) -> tuple[Path, Path]:
    """A project whose ``.calctl/cache`` an attacker made by running calctl with their own
    key (their XDG_CONFIG_HOME), ready to edit and commit; returns (root, their config)."""
    root = _project(tmp_path / "repo")
    theirs = tmp_path / "attacker-config"
    code, _ = _run(calctl, root, *args, env={"XDG_CONFIG_HOME": str(theirs)})
    assert code == 1  # misordered: the attacker wants a 0
    return root, theirs


def test_a_forged_output_cannot_make_check_say_safe(calctl: Any, tmp_path: Path) -> None:
    args = ("migrate", "order", "--check")
    expected = _clean_outputs(calctl, tmp_path / "clean", *args)
    assert expected[0] == 1 and "unsafe" in expected[1]
    root, theirs = _attacker_cache(calctl, tmp_path, *args)
    cache = _cache(root)
    body = _body((cache / OUTPUT_FILE).read_bytes())
    (key, _, _), = body["entries"]
    lie = "filename order is safe (3 files; 0 errors, 0 warnings)\n"
    # the old format, under the key anyone can compute (read here from the attacker's run)
    (cache / "migrate-output.marshal").write_bytes(marshal.dumps({bytes.fromhex(key): (lie, 0)}))
    # the new format, sealed under the attacker's key
    body["entries"] = [[key, lie, 0]]
    (cache / OUTPUT_FILE).write_bytes(_seal_as(theirs, orjson.dumps(body)))
    # the forgery is a working one: the attacker's own calctl replays it
    assert _run(calctl, root, *args, env={"XDG_CONFIG_HOME": str(theirs)}) == (0, lie)
    # on the victim's machine (an existing key) and on a fresh CI machine: inert
    assert _run(calctl, root, *args) == expected
    assert _run(calctl, root, *args, env={"XDG_CONFIG_HOME": str(tmp_path / "ci")}) == expected


def test_a_forged_parse_cache_cannot_hide_a_dependency(calctl: Any, tmp_path: Path) -> None:
    """Shards sealed under another key claiming that 011 uses nothing."""
    args = ("migrate", "order", "--check")
    expected = _clean_outputs(calctl, tmp_path / "clean", *args)
    root, theirs = _attacker_cache(calctl, tmp_path, *args)
    cache = _cache(root)
    (cache / OUTPUT_FILE).unlink()  # no replay: the analyses decide
    from calctl.config import MigrateSettings
    from calctl.sql.discovery import discover

    files = discover(root / "migrations")
    target = file_keys(files, MigrateSettings())[[f.path for f in files].index(
        "011_admin_roles.sql")]
    forged = 0
    for path in shard_paths(cache):
        if not path.exists():
            continue
        entries = decode_shard(_body(path.read_bytes()))
        if target in entries:
            entries[target] = entries[target]._replace(facts=(), summary=((), (), ()))
            forged += 1
        body = {"kind": "migrate-analysis", "format": FORMAT, "version": _body(
            path.read_bytes())["version"], **encode_shard(list(entries.items()))}
        path.write_bytes(_seal_as(theirs, orjson.dumps(body)))
    assert forged == 1
    lied = _run(calctl, root, *args, env={"XDG_CONFIG_HOME": str(theirs)})
    assert lied[0] == 0  # the forgery works for its maker …
    (cache / OUTPUT_FILE).unlink()
    assert _run(calctl, root, *args) == expected  # … and nowhere else


# ---------------------------------------------------------------- (c) wrong inner types


def _genuine(calctl: Any, root: Path, *args: str) -> None:
    """A run with this test session's key: the cache files are ours."""
    code, _ = _run(calctl, root, *args)
    assert code == 1


def _reseal(path: Path, body: Any) -> None:
    """Write ``body`` sealed under our own key (our own bug, or corruption on disk)."""
    sealed = trust.seal(orjson.dumps(body), "cache")
    assert sealed is not None
    path.write_bytes(sealed)


SHARD_DAMAGE: list[tuple[str, Any]] = [
    ("line", lambda b: [*b["line"][:-1], "12"]),
    ("column", lambda b: [None] * len(b["column"])),
    ("guarded", lambda b: [1] * len(b["guarded"])),
    ("open", lambda b: "nope"),
    ("action", lambda b: [10 ** 6] * len(b["action"])),
    ("action", lambda b: ["create"] * len(b["action"])),
    ("names", lambda b: [[1, 2]] * len(b["names"])),
    ("names", lambda b: [["x"]][:0]),
    ("strings", lambda b: list(range(len(b["strings"])))),
    ("keys", lambda b: ["zz" * 16] * len(b["keys"])),
    ("keys", lambda b: [k[:4] for k in b["keys"]]),
    ("fact_counts", lambda b: [c + 1 for c in b["fact_counts"]]),
    ("fact_counts", lambda b: [-1] * len(b["fact_counts"])),
    ("notes", lambda b: [[0, "CAL000", "one", 1, "m", ""]]),
    ("notes", lambda b: [[99, "CAL000", 1, 1, "m", ""]]),
    ("notes", lambda b: [["short"]]),
    ("span_first", lambda b: [1.5] * len(b["span_first"])),
    ("span_ignores", lambda b: [[0, "CAL001"]]),
    ("span_ignores", lambda b: [[10 ** 9, ["CAL001"]]]),
    ("file_ignores", lambda b: [[1]] * len(b["file_ignores"])),
    ("approximate", lambda b: [0] * len(b["approximate"])),
    ("statements", lambda b: [True] * len(b["statements"])),
    ("summary_counts", lambda b: [[1, 2]] * len(b["summary_counts"])),
    ("summary_counts", lambda b: [[10 ** 6, 0, 0]] * len(b["summary_counts"])),
    ("summary_facts", lambda b: [10 ** 6] * len(b["summary_facts"])),
    ("summary_facts", lambda b: ["a"] * len(b["summary_facts"])),
    ("summary_facts", lambda b: None),
    ("summary_facts", lambda b: [-1] * len(b["summary_facts"])),
    # a position in the shard's facts, beyond the file's own (positions count per file)
    ("summary_facts", lambda b: [max(b["fact_counts"])] * len(b["summary_facts"])),
    ("fact_counts", lambda b: {"a": 1}),
]


@pytest.mark.parametrize("field,damage", SHARD_DAMAGE,
                         ids=[f"{f}-{i}" for i, (f, _) in enumerate(SHARD_DAMAGE)])
def test_a_shard_with_wrong_inner_types_is_a_miss(field: str, damage: Any,
                                                  tmp_path: Path) -> None:
    """Each field of a shard, wrongly typed or inconsistent, under our own key: the
    shard decodes to nothing (a miss), never an exception out of the cache."""
    from calctl.config import MigrateSettings
    from calctl.sql.cache import ParseCache
    from calctl.sql.runtime import analyse_directory

    root = _project(tmp_path / "repo")
    cache = tmp_path / "cache"
    first = analyse_directory(root / "migrations", MigrateSettings(), cache_dir=cache)
    damaged = 0
    for path in shard_paths(cache):
        if path.exists():
            body = _body(path.read_bytes())
            body[field] = damage(body)
            _reseal(path, body)
            damaged += 1
    assert damaged and ParseCache(cache).stored() == {}
    again = analyse_directory(root / "migrations", MigrateSettings(), cache_dir=cache)
    assert again.analyses == first.analyses and again.resolution == first.resolution
    assert len(ParseCache(cache).stored()) == 3  # re-analysed, and written again


def test_wrong_inner_types_through_the_cli_are_misses(calctl: Any, tmp_path: Path) -> None:
    args = ("migrate", "order", "--check")
    expected = _clean_outputs(calctl, tmp_path / "clean", *args)
    root = _project(tmp_path / "repo")
    cache = _cache(root)
    _genuine(calctl, root, *args)
    output = _body((cache / OUTPUT_FILE).read_bytes())
    (key, _, _), = output["entries"]
    for entry in ([key, 7, 0], [key, "safe\n", "0"], [key, "safe\n", True],
                  [key, "safe\n", 70], [key, "safe\n"], key, [7, "safe\n", 0]):
        for path in shard_paths(cache):  # the parse cache: right shape, wrong types
            if path.exists():
                body = _body(path.read_bytes())
                body["line"] = [str(n) for n in body["line"]]
                _reseal(path, body)
        _reseal(cache / OUTPUT_FILE, {**output, "entries": [entry]})
        assert _run(calctl, root, *args) == expected
    for body in ({**output, "entries": {"a": 1}}, {**output, "format": 99},
                 {**output, "version": "0"}, {**output, "kind": "migrate-analysis"},
                 [output], "just a string"):
        _reseal(cache / OUTPUT_FILE, body)
        assert _run(calctl, root, *args) == expected


def test_a_stored_plan_with_wrong_types_is_a_miss(calctl: Any, tmp_path: Path) -> None:
    """The results cache (plans for ``migrate order``/``apply``, lint reports): a plan
    that is ours is used — shown by one carrying a marker — and one with a wrongly typed
    field, or naming files the directory does not have, is not."""
    from calctl.config import MigrateSettings
    from calctl.sql.discovery import discover
    from calctl.sql.facts import ANALYSER_VERSION
    from calctl.sql.runtime import build_plan

    args = ("migrate", "order", "--json")
    root = _project(tmp_path / "repo")
    directory = root / "migrations"
    cache = _cache(root)
    expected = _run(calctl, root, *args)
    files = discover(directory)
    rkey = result_key("order", str(directory), [f.path for f in files],
                      file_keys(files, MigrateSettings()), ("order=natural",))
    plan = build_plan(directory, MigrateSettings())[0].to_dict()
    marked = {**plan, "files": [{**f, "reason": "FROM THE RESULTS CACHE"}
                                for f in plan["files"]]}

    def with_result(document: Any) -> tuple[int, str]:
        _reseal(cache / RESULT_FILE, {"kind": "migrate-results", "format": FORMAT,
                                      "version": ANALYSER_VERSION,
                                      "entries": [[rkey.hex(), document]]})
        (cache / OUTPUT_FILE).unlink(missing_ok=True)
        return _run(calctl, root, *args)

    assert "FROM THE RESULTS CACHE" in with_result(marked)[1]  # the key is the right one
    for document in (
        {**marked, "files": "three"},
        {**marked, "safe": "yes"},
        {**marked, "files": [{**f, "position": "1"} for f in marked["files"]]},
        {**marked, "files": [{**f, "depends_on": [{"path": 3}]} for f in marked["files"]]},
        {**marked, "problems": [{"code": "CAL001"}]},
        {**marked, "files": [{**f, "path": "../../etc/passwd"} for f in marked["files"]]},
        {**marked, "files": [marked["files"][0]] * len(marked["files"])},
        {**marked, "kind": "patch"},
        ["not", "a", "document"],
    ):
        assert with_result(document) == expected


# ---------------------------------------------------------------- (d) garbage


def test_garbage_truncated_and_special_files_are_misses(calctl: Any, tmp_path: Path) -> None:
    args = ("migrate", "order", "--check")
    expected = _clean_outputs(calctl, tmp_path / "clean", *args)
    root = _project(tmp_path / "repo")
    cache = _cache(root)
    _genuine(calctl, root, *args)
    names = [OUTPUT_FILE, *(p.name for p in shard_paths(cache) if p.exists())]
    genuine = {name: (cache / name).read_bytes() for name in names}
    _run(calctl, root, "migrate", "lint")
    genuine[RESULT_FILE] = (cache / RESULT_FILE).read_bytes()

    def each(make: Any) -> None:
        for name, blob in genuine.items():
            path = cache / name
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink(missing_ok=True)
            make(path, blob)
        assert _run(calctl, root, *args) == expected
        assert _run(calctl, root, "migrate", "lint")[0] == 1

    each(lambda p, b: p.write_bytes(os.urandom(len(b))))                  # garbage
    each(lambda p, b: p.write_bytes(b""))                                 # empty
    each(lambda p, b: p.write_bytes(b[: len(b) // 2]))                    # truncated
    each(lambda p, b: p.write_bytes(b + b"\n"))                           # appended to
    each(lambda p, b: p.write_bytes(b.replace(b"cache ", b"journal ", 1)))  # purpose
    each(lambda p, b: p.write_bytes(trust.seal(b.split(b"\n", 1)[1][:-9], "cache")
                                    or b""))                              # sealed, cut JSON
    each(lambda p, b: p.write_bytes(trust.seal(b"\xff\xfe not json", "cache") or b""))
    each(lambda p, b: p.symlink_to("/dev/zero"))                          # endless
    each(lambda p, b: os.mkfifo(p))                                       # blocks a reader
    each(lambda p, b: p.mkdir())


def test_without_a_usable_key_the_caches_are_off(calctl: Any, tmp_path: Path) -> None:
    """A key others may read is not used: nothing is read or written."""
    args = ("migrate", "order", "--check")
    expected = _clean_outputs(calctl, tmp_path / "clean", *args)
    root = _project(tmp_path / "repo")
    home = tmp_path / "config"
    key = home / "calctl" / "state.key"
    key.parent.mkdir(parents=True)
    key.write_bytes(os.urandom(trust.KEY_BYTES))
    key.chmod(0o644)
    env = {"XDG_CONFIG_HOME": str(home)}
    assert _run(calctl, root, *args, env=env) == expected
    assert _run(calctl, root, *args, env=env) == expected
    cache = _cache(root)
    assert not cache.exists() or list(cache.iterdir()) == []
