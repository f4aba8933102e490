"""The parse cache: a few marshal files in the state directory's ``cache/``.

Keyed by a hash of the file's text plus everything else the analysis depends on
(analyser version, search path, defines, the ``.autocommit.`` name marker), so a
changed file, a new calctl or different settings simply miss. A few shard files
rather than one per migration: loading 2,000 small files costs more than the parse.
A cache that cannot be read is ignored; one that cannot be written is skipped —
the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import marshal
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.sql.facts import ANALYSER_VERSION, FileAnalysis, from_plain, to_plain

try:  # hashlib.blake2b itself, without hashlib loading OpenSSL first (~5 ms)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

# marshal, not pickle: the analyses are plain tuples, and marshal reads them 3-4× faster
CACHE_PREFIX = "migrate-analysis"
SHARDS = 20  # a forked analysis gives each process some of them to write

if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql.discovery import MigrationFile
MAX_ENTRIES = 50_000


def settings_key(search_path: tuple[str, ...], defines: dict[str, str]) -> str:
    text = repr((ANALYSER_VERSION, search_path, sorted(defines.items())))
    return blake2b(text.encode(), digest_size=8).hexdigest()


def entry_key(text: str, path: str, settings: str) -> bytes:
    digest = blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)
    digest.update(settings.encode())
    digest.update(b"A" if ".autocommit." in path else b"-")
    return digest.digest()


def file_keys(files: Sequence[MigrationFile], settings: MigrateSettings) -> list[bytes]:
    """The cache key of every file under these settings."""
    search_path = tuple(settings.search_path) or ("public",)
    skey = settings_key(search_path, dict(settings.defines))
    return [entry_key(f.text, f.path, skey) for f in files]


def shard_of(key: bytes) -> int:
    """The cache file a key lives in (see :class:`ParseCache`)."""
    return key[0] % SHARDS


def shard_paths(directory: Path) -> list[Path]:
    return [directory / f"{CACHE_PREFIX}-{shard}.marshal" for shard in range(SHARDS)]


class ParseCache:
    """Load once, look up by key, save what was added.

    The entries are spread over ``SHARDS`` files by key, so that the processes of a
    parallel analysis each write the files of the keys they analysed, at the same time,
    instead of the parent writing everything at the end.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.paths = shard_paths(directory) if directory is not None else []
        self.entries: list[dict[bytes, Any]] = [
            self._load(path) for path in self.paths] or [{} for _ in range(SHARDS)]
        self.used: list[dict[bytes, Any]] = [{} for _ in range(SHARDS)]
        self.added: set[int] = set()

    @staticmethod
    def _load(path: Path) -> dict[bytes, Any]:
        try:
            data: Any = marshal.loads(path.read_bytes())
        except FileNotFoundError:
            return {}
        except Exception:
            return {}  # corrupt or from another Python: start again
        if not isinstance(data, dict) or data.get("version") != ANALYSER_VERSION:
            return {}
        entries = data.get("entries")
        return entries if isinstance(entries, dict) else {}

    def keep(self, key: bytes) -> bool:
        """True when ``key`` is cached; it is then kept first when its shard is saved, as
        an entry this run used (what :meth:`get` does, without decoding it)."""
        shard = shard_of(key)
        found = self.entries[shard].get(key)
        if found is None:
            return False
        self.used[shard][key] = found
        return True

    def get(self, key: bytes) -> FileAnalysis | None:
        shard = shard_of(key)
        found = self.entries[shard].get(key)
        if found is None:
            return None
        try:
            analysis = from_plain(found)
        except (TypeError, ValueError):
            return None
        self.used[shard][key] = found
        return analysis

    def put(self, key: bytes, analysis: FileAnalysis | tuple[Any, ...]) -> None:
        shard = shard_of(key)
        self.used[shard][key] = analysis if not isinstance(analysis, FileAnalysis) \
            else to_plain(analysis)
        self.added.add(shard)

    def save(self, shards: Iterable[int] = range(SHARDS)) -> None:
        """Write the given shards that gained entries (what this run used comes first, then
        older entries up to the size limit)."""
        for shard in shards:
            if shard not in self.added or not self.paths:
                continue
            keep = dict(self.used[shard])
            for key, value in self.entries[shard].items():
                if len(keep) >= MAX_ENTRIES // SHARDS:
                    break
                keep.setdefault(key, value)
            _write_atomic(self.paths[shard], ".analysis-",
                          marshal.dumps({"version": ANALYSER_VERSION, "entries": keep}))


def _write_atomic(path: Path, prefix: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` (never half-written); errors are ignored — the cache
    only ever saves time."""
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        # a new name beside the target (not tempfile: importing it costs more than a cold
        # run spends writing); O_EXCL: never a file of someone else's
        tmp = path.parent / f"{prefix}{os.getpid()}-{os.urandom(4).hex()}-{path.name}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:  # an error, or Ctrl-C: leave no temporary file behind
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


RESULT_FILE = "migrate-results.pickle"
OUTPUT_FILE = "migrate-output.marshal"
MAX_RESULTS = 8


def result_key(scope: str, directory: str, paths: list[str], keys: list[bytes],
               extra: tuple[str, ...]) -> bytes:
    """Key of a whole directory's result: every file's path and content key, plus settings."""
    digest = blake2b(digest_size=16)
    digest.update(repr((ANALYSER_VERSION, scope, directory, extra)).encode())
    for path, key in zip(paths, keys, strict=True):
        digest.update(path.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
        digest.update(key)
    return digest.digest()


def load_result(directory: Path | None, key: bytes) -> Any:
    """The stored result for ``key`` (a plan or lint report), or None."""
    if directory is None:
        return None
    try:
        with (directory / RESULT_FILE).open("rb") as handle:
            import pickle  # here: a cold run never has a result to read

            data = pickle.load(handle)
    except Exception:
        return None
    if not isinstance(data, dict) or data.get("version") != ANALYSER_VERSION:
        return None
    return data.get("results", {}).get(key)


def store_result(directory: Path | None, key: bytes, value: Any) -> None:
    """Remember a directory's result (the last few directories/settings are kept)."""
    if directory is None:
        return
    import pickle

    path = directory / RESULT_FILE
    results: dict[bytes, Any] = {}
    try:
        with path.open("rb") as handle:
            data = pickle.load(handle)
        if isinstance(data, dict) and data.get("version") == ANALYSER_VERSION:
            results = dict(data.get("results", {}))
    except Exception:
        results = {}
    results.pop(key, None)
    results[key] = value
    while len(results) > MAX_RESULTS:
        results.pop(next(iter(results)))
    _write_atomic(path, ".results-", pickle.dumps(
        {"version": ANALYSER_VERSION, "results": results}, protocol=pickle.HIGHEST_PROTOCOL))


def load_output(directory: Path | None, key: bytes) -> tuple[str, int] | None:
    """A command's printed output and exit code for ``key`` (see :func:`store_output`)."""
    if directory is None:
        return None
    try:
        data = marshal.loads((directory / OUTPUT_FILE).read_bytes())
        text, code = data[key]
    except Exception:
        return None
    return (text, code) if isinstance(text, str) and isinstance(code, int) else None


def store_output(directory: Path | None, key: bytes, text: str, code: int) -> None:
    """Remember what a command printed for an unchanged directory and the same flags, so
    a warm run only reads, hashes and replays (the last few outputs are kept)."""
    if directory is None:
        return
    path = directory / OUTPUT_FILE
    try:
        data = dict(marshal.loads(path.read_bytes()))
    except Exception:
        data = {}
    data.pop(key, None)
    data[key] = (text, code)
    while len(data) > MAX_RESULTS:
        data.pop(next(iter(data)))
    _write_atomic(path, ".output-", marshal.dumps(data))
