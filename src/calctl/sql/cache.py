"""The parse cache: one pickle file in the state directory's ``cache/``.

Keyed by a hash of the file's text plus everything else the analysis depends on
(analyser version, search path, defines, the ``.autocommit.`` name marker), so a
changed file, a new calctl or different settings simply miss. One file rather
than one per migration: loading 2,000 small files costs more than the parse.
A cache that cannot be read is ignored; one that cannot be written is skipped —
the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import pickle
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl.sql.facts import ANALYSER_VERSION, FileAnalysis, from_plain, to_plain

# marshal, not pickle: the analyses are plain tuples, and marshal reads them 3-4× faster
CACHE_FILE = "migrate-analysis.marshal"

if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql.discovery import MigrationFile
MAX_ENTRIES = 50_000


def settings_key(search_path: tuple[str, ...], defines: dict[str, str]) -> str:
    text = repr((ANALYSER_VERSION, search_path, sorted(defines.items())))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def entry_key(text: str, path: str, settings: str) -> bytes:
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16)
    digest.update(settings.encode())
    digest.update(b"A" if ".autocommit." in path else b"-")
    return digest.digest()


def file_keys(files: Sequence[MigrationFile], settings: MigrateSettings) -> list[bytes]:
    """The cache key of every file under these settings."""
    search_path = tuple(settings.search_path) or ("public",)
    skey = settings_key(search_path, dict(settings.defines))
    return [entry_key(f.text, f.path, skey) for f in files]


class ParseCache:
    """Load once, look up by key, save once if anything was added."""

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / CACHE_FILE if directory is not None else None
        self.entries: dict[bytes, Any] = {}
        self.used: dict[bytes, Any] = {}
        self.added = 0
        if self.path is not None:
            self.entries = self._load(self.path)

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

    def get(self, key: bytes) -> FileAnalysis | None:
        found = self.entries.get(key)
        if found is None:
            return None
        try:
            analysis = from_plain(found)
        except (TypeError, ValueError):
            return None
        self.used[key] = found
        return analysis

    def put(self, key: bytes, analysis: FileAnalysis | tuple[Any, ...]) -> None:
        self.used[key] = analysis if not isinstance(analysis, FileAnalysis) \
            else to_plain(analysis)
        self.added += 1

    def save(self) -> None:
        if self.path is None or not self.added:
            return
        keep = dict(self.used)
        for key, value in self.entries.items():
            if len(keep) >= MAX_ENTRIES:
                break
            keep.setdefault(key, value)
        with contextlib.suppress(OSError, ValueError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".analysis-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(marshal.dumps({"version": ANALYSER_VERSION, "entries": keep}))
                os.replace(tmp, self.path)
            except (OSError, ValueError):
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


RESULT_FILE = "migrate-results.pickle"
OUTPUT_FILE = "migrate-output.marshal"
MAX_RESULTS = 8


def result_key(scope: str, directory: str, paths: list[str], keys: list[bytes],
               extra: tuple[str, ...]) -> bytes:
    """Key of a whole directory's result: every file's path and content key, plus settings."""
    digest = hashlib.blake2b(digest_size=16)
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
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".results-")
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump({"version": ANALYSER_VERSION, "results": results}, handle,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


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
    with contextlib.suppress(OSError, ValueError):
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".output-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(data))
            os.replace(tmp, path)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
