"""The migrate caches: sealed JSON files in the state directory's ``cache/``.

* the parse cache, ``migrate-analysis-<0…19>.sealed``: per file, keyed by a hash of
  its text plus everything else the analysis depends on (analyser version, search
  path, defines, the ``.autocommit.`` name marker), so a changed file, a new calctl or
  different settings simply miss. A few shard files rather than one per migration:
  loading 2,000 small files costs more than the parse;
* ``migrate-results.sealed``: whole-directory plans and lint reports;
* ``migrate-output.sealed``: what ``migrate order``/``lint`` printed, and the exit code.

A repository can ship any of these (a committed ``.calctl/cache/``), so nothing read
here can run code or decide a result by being there: the files are plain JSON (orjson),
sealed by :mod:`calctl.trust` under a key kept outside every project, and every field is
validated on read. A file without a valid tag under this user's key, of another format,
another version, truncated or with a wrongly typed field is a miss — never an error.
Without a usable key the caches are off: nothing is read or written. A cache that cannot
be written is skipped: the cache only ever saves time.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, chain
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calctl import trust
from calctl.sql.facts import (
    ANALYSER_VERSION,
    AnalysisInput,
    Fact,
    FileAnalysis,
    Note,
    Span,
    as_fact,
)

try:  # hashlib.blake2b itself, without hashlib loading OpenSSL first (~5 ms)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

if TYPE_CHECKING:
    from calctl.config import MigrateSettings
    from calctl.sql.discovery import MigrationFile

try:
    import orjson
except ImportError:  # pragma: no cover - orjson ships wheels for every supported platform
    orjson = None  # type: ignore[assignment]  # the caches are then off

PURPOSE = "cache"           # the trust.seal purpose of every file here
FORMAT = 3                  # bump when the layout below changes
MAX_FILE = 256 << 20        # larger is not ours: a miss, never read into memory
CACHE_PREFIX = "migrate-analysis"
SUFFIX = ".sealed"
SHARDS = 20  # a forked analysis gives each process some of them to write
MAX_ENTRIES = 50_000


def file_inputs(files: Sequence[MigrationFile], settings: MigrateSettings,
                ) -> list[AnalysisInput]:
    """What the analysis of each file reads under these settings."""
    shared = AnalysisInput.of("", "", settings.search_path, dict(settings.defines))
    rest = shared[2:]  # the settings part, the same for every file
    new = tuple.__new__
    return [new(AnalysisInput, (f.text, ".autocommit." in f.path, *rest)) for f in files]


def file_keys(files: Sequence[MigrationFile], settings: MigrateSettings) -> list[bytes]:
    """The cache key of every file under these settings (:meth:`AnalysisInput.key`)."""
    return [AnalysisInput.key(job) for job in file_inputs(files, settings)]


def shard_of(key: bytes) -> int:
    """The cache file a key lives in (see :class:`ParseCache`)."""
    return key[0] % SHARDS


def shard_paths(directory: Path) -> list[Path]:
    return [directory / f"{CACHE_PREFIX}-{shard}{SUFFIX}" for shard in range(SHARDS)]


# ---------------------------------------------------------------- sealed files


def enabled(*, create: bool = False) -> bool:
    """Whether the caches are on: orjson is there and this user's key is usable
    (``create``: make the key on first use, as a write does)."""
    return orjson is not None and trust.state_key(create=create) is not None


def read_sealed(path: Path, kind: str) -> dict[str, Any] | None:
    """The body of the cache file ``path`` when it is ours (a valid tag under this user's
    key), of ``kind``, this format and this analyser version; None otherwise.

    Never follows a symbolic link, never reads anything but a regular file of sane size
    (a committed link to ``/dev/zero`` or a FIFO must not hang the command)."""
    if not enabled():
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE:
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            blob = handle.read(MAX_FILE + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    data = trust.unseal(blob, PURPOSE)
    if data is None:
        return None
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if (type(body) is not dict or body.get("kind") != kind or body.get("format") != FORMAT
            or body.get("version") != ANALYSER_VERSION):
        return None
    return body


def write_sealed(path: Path, kind: str, body: dict[str, Any]) -> None:
    """Replace the cache file ``path`` with ``body`` as sealed JSON; nothing without a
    usable key, or when ``body`` cannot be JSON (a lone surrogate from a file name)."""
    if not enabled(create=True):
        return
    try:
        data = orjson.dumps({"kind": kind, "format": FORMAT, "version": ANALYSER_VERSION,
                             **body})
    except (orjson.JSONEncodeError, TypeError):
        return
    sealed = trust.seal(data, PURPOSE)
    if sealed is not None:
        _write_atomic(path, ".cache-", sealed)


def _write_atomic(path: Path, prefix: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` (never half-written); errors are ignored — the cache
    only ever saves time."""
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        if os.path.islink(path.parent):
            return  # a linked cache directory (a repository can ship one) leads elsewhere
        # a new name beside the target (not tempfile: importing it costs more than a cold
        # run spends writing); O_EXCL: never a file of someone else's. os.replace puts the
        # new file in place of a link at ``path``, never writes through it.
        tmp = path.parent / f"{prefix}{os.getpid()}-{os.urandom(4).hex()}-{path.name}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:  # an error, or Ctrl-C: leave no temporary file behind
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


# ---------------------------------------------------------------- the parse cache
#
# One shard holds its analyses column by column over all its files, with the strings
# in one table: JSON of a list per fact took orjson 4× marshal's time to load (every
# string a new object), and rebuilding facts from columns is a few C-level zips instead
# of Python per fact. Type checks are whole columns at once (``set(map(type, …))``).

ANALYSIS_KIND = "migrate-analysis"
_INT = frozenset({int})
_STR = frozenset({str})
_BOOL = frozenset({bool})
_LIST = frozenset({list})
_ANY = None
_LIST_OR_NONE: frozenset[type] = frozenset({list, type(None)})


class BadEntry(ValueError):
    """A stored value is not what this version writes (corrupt, or our own bug)."""


def _typed(value: Any, types: frozenset[type] | None, length: int | None = None,
           ) -> list[Any]:
    """``value`` when it is a list of ``length`` items of exactly these types (None:
    any: the caller checks them)."""
    if type(value) is not list or (length is not None and len(value) != length):
        raise BadEntry("not a list of the expected length")
    if types is not None and value and not set(map(type, value)) <= types:
        raise BadEntry("an item of the wrong type")
    return value


def _indexes(value: Any, length: int | None, bound: int) -> list[int]:
    """A list of ``length`` ints, each an index below ``bound``."""
    _typed(value, _INT, length)
    if value and (min(value) < 0 or max(value) >= bound):
        raise BadEntry("an index out of range")
    return value  # type: ignore[no-any-return]


def _numbered(values: Iterable[Any]) -> dict[Any, int]:
    """Each distinct value → its position in first-seen order."""
    distinct = dict.fromkeys(values)
    return dict(zip(distinct, range(len(distinct)), strict=True))


def _lookup(table: Any, keys: Iterable[Any]) -> list[Any]:
    """``[table[k] for k in keys]`` in one C call (itemgetter), not a call per key."""
    keys = list(keys)
    if len(keys) < 2:  # itemgetter of one key returns the value itself, of none fails
        return [table[k] for k in keys]
    return list(itemgetter(*keys)(table))


def _slices(items: Sequence[Any], lengths: Iterable[int]) -> Iterator[tuple[Any, ...]]:
    """``items`` cut into consecutive tuples of these lengths."""
    ends = list(accumulate(lengths))
    return map(tuple, map(items.__getitem__, map(slice, [0, *ends], ends)))


# How each field is stored, by name (checked at import against the NamedTuples, so a
# field added to Fact or FileAnalysis cannot be silently dropped from the cache).
# Fact fields: a column of positions in the shard's string table ("string"), in its
# table of name tuples ("names"), or of plain values of one type.
_FACT_COLUMNS: dict[str, str | frozenset[type]] = {
    "action": "string", "kind": "string", "names": "names", "line": _INT, "column": _INT,
    "display": "string", "guarded": _BOOL, "new": "string", "open": _BOOL,
}
# FileAnalysis fields stored as one value per analysis (the others have their own code
# below: facts, notes, spans, summary)
_FILE_COLUMNS: dict[str, frozenset[type]] = {
    "approximate": _BOOL, "transaction": _BOOL, "statements": _INT,
}
_FILE_OWN = ("facts", "notes", "spans", "file_ignores", "summary")
# a column's key in the body: the field's name, unless another key of the body has it
_RENAMED = {"kind": "object_kind", "names": "names_at"}
if (tuple(_FACT_COLUMNS) != Fact._fields
        or set(_FILE_COLUMNS) | set(_FILE_OWN) != set(FileAnalysis._fields)
        or len({_RENAMED.get(name, name) for name in _FACT_COLUMNS} | set(_FILE_COLUMNS))
        != len(_FACT_COLUMNS) + len(_FILE_COLUMNS)
        or Note._fields != ("code", "line", "column", "message", "hint")
        or Span._fields != ("first", "last", "ignores")):  # pragma: no cover
    raise ImportError("calctl.sql.cache does not store every field of the analysis: "
                      "update its tables and FORMAT")


def encode_shard(items: Sequence[tuple[bytes, Any]]) -> dict[str, Any]:
    """The JSON body of a shard holding ``items``: (key, analysis), each analysis a
    :class:`FileAnalysis` or already in the plain form of
    :func:`~calctl.sql.facts.to_plain` (what crossed the pipe from the other process).
    The two forms differ only in the facts (rows or columns): every other field is read
    from either alike, and the shard's facts become columns in one transposition."""
    analyses = [a for _, a in items]
    # each file's facts as rows (a plain analysis carries them as 9 columns, or none)
    rows = [a[_FACTS] if type(a) is not tuple
            else tuple(zip(*a[_FACTS], strict=True)) if a[_FACTS] else () for a in analyses]
    counts = list(map(len, rows))
    every = list(chain.from_iterable(rows))
    cols = dict(zip(Fact._fields, zip(*every, strict=True) if every
                    else [()] * len(Fact._fields), strict=True))
    strings = _numbered(chain.from_iterable(
        cols[name] for name, how in _FACT_COLUMNS.items() if how == "string"))
    names = _numbered(chain.from_iterable(
        cols[name] for name, how in _FACT_COLUMNS.items() if how == "names"))
    spans = list(chain.from_iterable(a[_SPANS] for a in analyses))
    span_cols: list[Sequence[Any]] = list(zip(*spans, strict=True)) if spans else [()] * 3
    summaries = [a[_SUMMARY] for a in analyses]
    body: dict[str, Any] = {
        "keys": [key.hex() for key, _ in items],
        "strings": list(strings),
        "names": list(names),
        "fact_counts": counts,
    }
    for name, how in _FACT_COLUMNS.items():
        table = strings if how == "string" else names if how == "names" else None
        body[_RENAMED.get(name, name)] = (list(cols[name]) if table is None
                                          else _lookup(table, cols[name]))
    body.update({
        "notes": [[i, *note] for i, a in enumerate(analyses) for note in a[_NOTES]],
        "span_counts": [len(a[_SPANS]) for a in analyses],
        "span_first": list(span_cols[0]),
        "span_last": list(span_cols[1]),
        "span_ignores": [[i, ignores] for i, ignores in enumerate(span_cols[2]) if ignores],
        "file_ignores": [a[_FILE_IGNORES] for a in analyses],
        # each summary's parts: their lengths, and their facts as positions in the file's
        "summary_counts": [None if s is None else list(map(len, s)) for s in summaries],
        "summary_facts": list(chain.from_iterable(chain.from_iterable(
            s for s in summaries if s is not None))),
    })
    for name in _FILE_COLUMNS:
        at = FileAnalysis._fields.index(name)
        body[name] = [a[at] for a in analyses]
    return body


_FACTS, _NOTES, _SPANS, _FILE_IGNORES, _SUMMARY = map(
    FileAnalysis._fields.index, ("facts", "notes", "spans", "file_ignores", "summary"))


def decode_shard(body: dict[str, Any]) -> dict[bytes, FileAnalysis]:
    """The analyses of a shard written by :func:`encode_shard`, every field checked:
    raises :class:`BadEntry` (or another ValueError, TypeError, IndexError, KeyError)
    when anything is not exactly what encode_shard writes."""
    keys = [bytes.fromhex(k) for k in _typed(body["keys"], _STR)]
    if any(len(k) != 16 for k in keys):
        raise BadEntry("a key of the wrong size")
    n = len(keys)
    strings = _typed(body["strings"], _STR)
    names_raw = _typed(body["names"], _LIST)
    _typed(list(chain.from_iterable(names_raw)), _STR)
    names = list(map(tuple, names_raw))
    counts = _indexes(body["fact_counts"], n, 1 << 62)
    total = sum(counts)

    def column(name: str, how: str | frozenset[type]) -> list[Any]:
        raw = body[_RENAMED.get(name, name)]
        if isinstance(how, frozenset):
            return _typed(raw, how, total)
        # positions in a table of values already checked: the lookup is the check (a
        # position that is not an int or beyond the table raises; zip(strict) below
        # checks that every column has one value per fact)
        return _lookup(strings if how == "string" else names, _typed(raw, _ANY))

    facts = list(map(as_fact, zip(*(column(name, how) for name, how in _FACT_COLUMNS.items()),
                                  strict=True)))
    notes: list[list[Note]] = [[] for _ in range(n)]
    for raw in _typed(body["notes"], _LIST):
        entry, code, line, col, message, hint = raw
        if not (type(entry) is int and 0 <= entry < n and type(code) is str
                and type(line) is int and type(col) is int and type(message) is str
                and type(hint) is str):
            raise BadEntry("a note of the wrong shape")
        notes[entry].append(Note(code, line, col, message, hint))
    span_counts = _indexes(body["span_counts"], n, 1 << 62)
    span_total = sum(span_counts)
    spans = list(map(Span, _typed(body["span_first"], _INT, span_total),
                     _typed(body["span_last"], _INT, span_total)))
    for raw in _typed(body["span_ignores"], _LIST):
        index, ignores = raw
        if type(index) is not int or not 0 <= index < span_total:
            raise BadEntry("a span index out of range")
        spans[index] = spans[index]._replace(ignores=tuple(_typed(ignores, _STR)))
    file_ignores = _typed(body["file_ignores"], _LIST, n)
    _typed(list(chain.from_iterable(file_ignores)), _STR)
    summary_counts = _typed(body["summary_counts"], _LIST_OR_NONE, n)
    parts = [c for c in summary_counts if c is not None]
    if any(len(c) != 3 for c in parts):
        raise BadEntry("a summary of the wrong shape")
    lengths = _indexes(list(chain.from_iterable(parts)), None, total + 1)
    grouped = iter(_slices(_indexes(body["summary_facts"], sum(lengths), total), lengths))
    summaries = [None if c is None else _summary(grouped, count)
                 for c, count in zip(summary_counts, counts, strict=True)]
    fields: dict[str, Iterable[Any]] = {
        "facts": _slices(facts, counts), "notes": map(tuple, notes),
        "spans": _slices(spans, span_counts), "file_ignores": map(tuple, file_ignores),
        "summary": summaries,
        **{name: _typed(body[name], types, n)
           for name, types in _FILE_COLUMNS.items()}}
    return dict(zip(keys, map(FileAnalysis, *(fields[name] for name in FileAnalysis._fields)),
                    strict=True))


def _summary(grouped: Iterator[tuple[int, ...]], count: int,
             ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """A file's summary: its next three parts, each a position in the file's ``count``
    facts."""
    parts = next(grouped), next(grouped), next(grouped)
    if any(part and max(part) >= count for part in parts):
        raise BadEntry("a summary of facts the file does not have")
    return parts


class ParseCache:
    """Load once, look up by key, save what was added.

    The entries are spread over ``SHARDS`` files by key, so that the processes of a
    parallel analysis each write the files of the keys they analysed, at the same time,
    instead of the parent writing everything at the end. A shard is read (tag checked,
    JSON parsed) when the cache is made and decoded on its first lookup; a shard that
    does not decode is empty.
    """

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.paths = shard_paths(directory) if directory is not None else []
        self._bodies: list[dict[str, Any] | None] = [None] * SHARDS
        self._keys: list[frozenset[bytes]] = [frozenset()] * SHARDS
        self._decoded: list[dict[bytes, FileAnalysis] | None] = [None] * SHARDS
        if self.paths and enabled():
            for shard, path in enumerate(self.paths):
                self._load(shard, path)
        # what this run used or added; () marks an entry keep() found, still encoded
        self.used: list[dict[bytes, Any]] = [{} for _ in range(SHARDS)]
        self.added: set[int] = set()

    def _load(self, shard: int, path: Path) -> None:
        body = read_sealed(path, ANALYSIS_KIND)
        if body is None:
            return
        try:  # only the keys now: which entries exist (see keep)
            keys = frozenset(map(bytes.fromhex, _typed(body.get("keys"), _STR)))
        except ValueError:
            return
        self._bodies[shard] = body
        self._keys[shard] = keys

    def _entries(self, shard: int) -> dict[bytes, FileAnalysis]:
        decoded = self._decoded[shard]
        if decoded is None:
            body, self._bodies[shard] = self._bodies[shard], None
            decoded = {}
            if body is not None:
                try:
                    decoded = decode_shard(body)
                except Exception:  # anything wrong in a cache is a miss
                    decoded = {}
            self._decoded[shard] = decoded
        return decoded

    def keep(self, key: bytes) -> bool:
        """True when ``key`` is cached; it is then kept first when its shard is saved, as
        an entry this run used (what :meth:`get` does, without decoding the shard: a shard
        that turns out not to decode only costs the caller an analysis)."""
        shard = shard_of(key)
        if key not in self._keys[shard]:
            return False
        self.used[shard][key] = ()  # resolved from the decoded shard when it is saved
        return True

    def get(self, key: bytes) -> FileAnalysis | None:
        shard = shard_of(key)
        if key not in self._keys[shard]:
            return None
        found = self._entries(shard).get(key)
        if found is not None:
            self.used[shard][key] = found
        return found

    def stored(self) -> dict[bytes, FileAnalysis]:
        """Every entry that decodes (for tests and tools; a run looks up by key)."""
        return {k: v for shard in range(SHARDS) for k, v in self._entries(shard).items()}

    def put(self, key: bytes, analysis: FileAnalysis | tuple[Any, ...]) -> None:
        """Add an analysis — or its plain form (:func:`calctl.sql.facts.to_plain`), which is
        written as is — to be saved."""
        shard = shard_of(key)
        self.used[shard][key] = analysis
        self.added.add(shard)

    def save(self, shards: Iterable[int] = range(SHARDS)) -> None:
        """Write the given shards that gained entries (what this run used comes first, then
        older entries up to the size limit)."""
        for shard in shards:
            if shard not in self.added or not self.paths:
                continue
            write_sealed(self.paths[shard], ANALYSIS_KIND,
                         encode_shard(list(self._kept(shard))))

    def _kept(self, shard: int) -> Iterator[tuple[bytes, Any]]:
        limit = MAX_ENTRIES // SHARDS
        older = self._entries(shard) if self._keys[shard] else {}
        seen: set[bytes] = set()
        for key, value in self.used[shard].items():
            if not value:  # marked by keep(): the stored analysis, if it decodes
                value = older.get(key, ())
                if not value:
                    continue
            seen.add(key)
            yield key, value
        for key, value in older.items():
            if len(seen) >= limit:
                return
            if key not in seen:
                seen.add(key)
                yield key, value


# ---------------------------------------------------------------- results and outputs

RESULT_FILE = "migrate-results" + SUFFIX
RESULT_KIND = "migrate-results"
OUTPUT_FILE = "migrate-output" + SUFFIX
OUTPUT_KIND = "migrate-output"
MAX_RESULTS = 8


def result_key(scope: str, directory: str, paths: list[str], keys: list[bytes],
               extra: tuple[str, ...]) -> bytes:
    """Key of a whole directory's result: every file's path and content key, plus settings.
    (Anyone can compute it: what makes an entry count is the file's tag, not its key.)"""
    digest = blake2b(digest_size=16)
    digest.update(repr((ANALYSER_VERSION, scope, directory, extra)).encode())
    for path, key in zip(paths, keys, strict=True):
        digest.update(path.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
        digest.update(key)
    return digest.digest()


def output_key(scope: str, directory: Path, files: Sequence[MigrationFile],
               keys: list[bytes], settings: MigrateSettings, flags: tuple[Any, ...],
               style: str, order: str = "") -> bytes:
    """The key of what ``migrate order|lint`` printed for these files, settings, flags and
    output style (``cli._styled.style_key``): computed by the command, and by the early
    child, which ends at once when that output is cached."""
    from calctl import __version__

    # the output depends on calctl's version (ANALYSER_VERSION is in the key too: bump it
    # when what these commands print changes) and on whether it is styled
    # `order`: the layout's order (calctl.sql.layout), which the output names
    # and on the working directory: text, github, sarif, gitlab and junit name files
    # relative to it
    extra = (__version__, *settings.known_objects, repr(flags), style, "order=" + order,
             "cwd=" + os.getcwd(), settings.rules_docs_url)
    return result_key("output-" + scope, str(directory), [f.path for f in files], keys,
                      extra)


def _pairs(body: dict[str, Any] | None) -> list[list[Any]]:
    """The ``entries`` of a results or output file: lists starting with a hex key."""
    if body is None:
        return []
    entries = body.get("entries")
    if type(entries) is not list:
        return []
    return [e for e in entries if type(e) is list and e and type(e[0]) is str]


def load_result(directory: Path | None, key: bytes) -> Any:
    """The stored result for ``key`` (a MigrationPlan or LintReport, validated as any
    document calctl reads), or None."""
    if directory is None:
        return None
    wanted = key.hex()
    for entry in _pairs(read_sealed(directory / RESULT_FILE, RESULT_KIND)):
        if entry[0] == wanted and len(entry) == 2:
            from calctl.documents.base import Document
            from calctl.documents.migrate import LintReport, MigrationPlan

            document = entry[1]
            kind = document.get("kind") if type(document) is dict else None
            cls: type[Document] | None = None
            if kind == MigrationPlan.KIND:
                cls = MigrationPlan
            elif kind == LintReport.KIND:
                cls = LintReport
            if cls is None:
                return None
            try:  # every field checked, as for any document calctl reads
                return cls.from_dict(document)
            except Exception:  # a DocumentError or worse: a miss
                return None
    return None


def store_result(directory: Path | None, key: bytes, value: Any) -> None:
    """Remember a directory's result (the last few directories/settings are kept)."""
    if directory is None or not enabled(create=True):
        return
    path = directory / RESULT_FILE
    wanted = key.hex()
    entries = [e for e in _pairs(read_sealed(path, RESULT_KIND)) if e[0] != wanted]
    entries.append([wanted, value.to_dict()])
    _write_entries(path, RESULT_KIND, entries)


def load_output(directory: Path | None, key: bytes) -> tuple[str, int] | None:
    """A command's printed output and exit code for ``key`` (see :func:`store_output`)."""
    if directory is None:
        return None
    wanted = key.hex()
    for entry in _pairs(read_sealed(directory / OUTPUT_FILE, OUTPUT_KIND)):
        if entry[0] == wanted:
            if len(entry) != 3:
                return None
            _, text, code = entry
            # order and lint exit 0 or 1; anything else was not written by them
            return (text, code) if type(text) is str and code in (0, 1) \
                and type(code) is int else None
    return None


def store_output(directory: Path | None, key: bytes, text: str, code: int) -> None:
    """Remember what a command printed for an unchanged directory and the same flags, so
    a warm run only reads, hashes and replays (the last few outputs are kept)."""
    if directory is None or not enabled(create=True):
        return
    path = directory / OUTPUT_FILE
    wanted = key.hex()
    entries = [e for e in _pairs(read_sealed(path, OUTPUT_KIND)) if e[0] != wanted]
    entries.append([wanted, text, code])
    _write_entries(path, OUTPUT_KIND, entries)


def _write_entries(path: Path, kind: str, entries: list[list[Any]]) -> None:
    write_sealed(path, kind, {"entries": entries[-MAX_RESULTS:]})
