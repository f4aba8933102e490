"""Finding the migration files of a directory, in filename order (the order of the tool
the directory belongs to: :mod:`calctl.sql.layout`).

Covers without flags the layouts of golang-migrate (``1_name.up.sql``), pop
(``…_name.postgres.up.sql``), Flyway (``V1_2__name.sql``), diesel
(``<version>_<name>/up.sql``), Prisma (``<ts>_<name>/migration.sql``) and dbmate
(one file with ``-- migrate:up`` / ``-- migrate:down`` sections) and goose (``-- +goose
Up`` / ``-- +goose Down``): only the up section is read. Down/undo
migrations are left out, and so are pop's files for other databases
(``….mysql.up.sql``, ``….sqlite3.up.sql``, ``….cockroach.up.sql``).
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import NamedTuple

from calctl.config import is_shared_scratch
from calctl.errors import UsageError
from calctl.sql.layout import Layout, detect, natural_key, sort_in_order

__all__ = ["Layout", "MigrationFile", "discover", "discover_layout", "migration_key",
           "natural_key", "up_section"]

# Past this a file is refused (exit 2), not read. The analysis holds one statement's
# tree at a time but the text and the facts of every statement: a 200 MB seed-data
# file peaks at ~2.4 GB (bench/large_file.py --size-mb 200), so 256 MiB bounds a run
# at ~3 GB on any machine.
MAX_FILE_BYTES = 256 * 1024 * 1024

DOWN_PATTERNS = ("*.down.sql", "down.sql", "*_down.sql", "U*__*.sql", "*.undo.sql")

_DBMATE_UP = re.compile(r"^\s*--\s*migrate:up\b.*$", re.M)
_DBMATE_DOWN = re.compile(r"^\s*--\s*migrate:down\b.*$", re.M)


class MigrationFile(NamedTuple):
    """One migration: its path relative to the directory, where it was read from, and
    its (up) SQL text.

    ``text`` keeps the file's line numbering: a dbmate down section is blanked
    out line for line rather than cut, so positions still map to the file.
    (A NamedTuple of strings: a directory has thousands, made on every run.)
    """

    path: str
    location: str
    text: str
    raw: str

    @property
    def name(self) -> str:
        return self.path


_FLYWAY_VERSION = re.compile(r"^[Vv](\d+(?:[._]\d+)*)__")


def migration_key(path: str) -> tuple[int, tuple[int, ...], tuple[int | str, ...]]:
    """Natural order, with Flyway names by version (``V1__`` < ``V1_2__`` < ``V1_10__``)
    and Flyway's repeatable migrations (``R__x.sql``) after all versioned ones. (The
    order of a directory is :mod:`calctl.sql.layout`'s: its tool's.)"""
    name = path.rsplit("/", 1)[-1]
    if name.startswith("R__"):
        return (1, (), natural_key(path))
    m = _FLYWAY_VERSION.match(name)
    version = tuple(int(p) for p in re.split(r"[._]", m.group(1))) if m else ()
    return (0, version, natural_key(path))


_DOWN = re.compile("|".join(fnmatch.translate(p) for p in DOWN_PATTERNS))
# pop/kratos keep one file per database dialect; only PostgreSQL's (or untagged) apply
_OTHER_DIALECT = re.compile(
    r"\.(mysql|sqlite3?|cockroach|mssql|sqlserver|oracle|clickhouse)(\.up)?\.sql$")


def is_down_migration(relative: str) -> bool:
    return _DOWN.match(relative.rsplit("/", 1)[-1]) is not None


def _matcher(patterns: Sequence[str], what: str) -> Callable[[str], bool] | None:
    """The files ``patterns`` select, gitignore's way (calctl.globs), relative to the
    migration directory; None when there are none (pathspec is then never imported)."""
    if not patterns:
        return None
    from calctl.globs import matcher, pattern_error

    for pattern in patterns:
        error = pattern_error(pattern)
        if error:
            raise UsageError(f"{what} pattern {pattern!r}: {error}",
                             hint="Patterns are gitignore lines, relative to the migration "
                             "directory: *.up.sql, V[0-9]*.sql, sub/*.sql, !skip.sql.",
                             code="bad-glob")
    return matcher(patterns)


def up_section(text: str) -> str:
    """The up migration of a dbmate or goose file: its text with everything outside the
    ``-- migrate:up`` (dbmate) or ``-- +goose Up`` (goose) section blanked line for line,
    so positions still map to the file; other text is returned as it is.

    The section markers stay (they are comments), and so does goose's ``-- +goose NO
    TRANSACTION`` wherever it is (it is about the whole file), so the directives reader
    sees them. A goose ``-- +goose StatementEnd`` line ends its statement, as goose sends
    the block as one statement whether or not it ends in ``;``: when the block's last
    line does not, the marker line becomes ``;`` (padded to its length)."""
    if "+goose" in text and _GOOSE_UP.search(text):
        return _goose_up(text)
    up = _DBMATE_UP.search(text)
    if not up:
        return text
    lines = text.split("\n")
    keep = [False] * len(lines)
    active = False
    for number, line in enumerate(lines):
        if _DBMATE_UP.match(line):
            active = True
            keep[number] = True
            continue
        if _DBMATE_DOWN.match(line):
            active = False
            continue
        keep[number] = active
    return "\n".join(line if k else "" for line, k in zip(lines, keep, strict=True))


# goose reads its annotations only at the start of a line, in any case
_GOOSE_UP = re.compile(r"^--\s*\+goose\s+up\b", re.I | re.M)
_GOOSE = re.compile(r"--\s*\+goose\s+(up|down|statementbegin|statementend|no\s+transaction)\b",
                    re.I)


def _goose_up(text: str) -> str:
    lines = text.split("\n")
    out = [""] * len(lines)
    state = "start"  # start → up (→ block → up)* → down
    last_code = ""
    for number, line in enumerate(lines):
        m = _GOOSE.match(line)
        word = " ".join(m.group(1).lower().split()) if m else ""
        if word == "no transaction":
            out[number] = line  # a file-wide directive, wherever it is
            continue
        if state == "down":
            continue
        if word == "up" and state == "start":
            state, out[number] = "up", line
        elif word == "down":
            state = "down"
        elif word == "statementbegin" and state == "up":
            state, out[number], last_code = "block", line, ""
        elif word == "statementend" and state == "block":
            state = "up"
            out[number] = line if last_code.endswith(";") else ";".ljust(len(line))
        elif state in ("up", "block"):
            out[number] = line
            code = line.split("--", 1)[0].strip() if "--" in line else line.strip()
            if code:
                last_code = code
    return "\n".join(out)


def decode(data: bytes, shown: str) -> str:
    """UTF-8 text of a file (BOM dropped); anything else is a UsageError naming file:line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{shown}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x})",
            hint="Save the file as UTF-8.",
            code="bad-encoding",
        ) from None


def read_migration(directory: Path, path: Path) -> MigrationFile:
    relative = path.relative_to(directory).as_posix()
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(
                f"{relative}: file is {size // (1024 * 1024)} MiB, over the "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MiB limit for a migration",
                hint="Split it, or exclude it with --exclude.",
                code="file-too-large",
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{relative}:1: cannot read: {exc.strerror}", code="unreadable",
                         hint="Check the file's permissions.") from exc
    raw = decode(data, relative)
    return MigrationFile(relative, str(path), up_section(raw), raw)


def discover(directory: Path, *, globs: Sequence[str] = (), exclude: Sequence[str] = (),
             read: bool = True, ordered: bool = True, sort: str = "auto",
             ) -> list[MigrationFile]:
    """Every migration file under ``directory`` (recursively), in filename order: the
    order of the tool the directory belongs to, or ``sort``
    (:mod:`calctl.sql.layout`; ``ordered=False``: in no particular order)."""
    return discover_layout(directory, globs=globs, exclude=exclude, read=read,
                           ordered=ordered, sort=sort)[0]


def discover_layout(directory: Path, *, globs: Sequence[str] = (),
                    exclude: Sequence[str] = (), read: bool = True, ordered: bool = True,
                    sort: str = "auto") -> tuple[list[MigrationFile], Layout]:
    """:func:`discover`, and the directory's layout (whose order the files are in).

    ``globs`` replaces the default ``*.sql`` selection (and the down-migration
    exclusion); ``exclude`` removes matching files. An empty or missing directory
    is a UsageError.
    """
    if not directory.is_dir():
        raise UsageError(
            f"migration directory {directory} "
            + ("is a file, not a directory" if directory.exists() else "does not exist"),
            hint="Pass the directory as an argument or set [migrate] dir in calctl.toml.",
            code="no-migrations",
        )
    region = _project_of(str(directory))
    _check_inside(str(directory), region)
    selected = _matcher(globs, "glob")
    excluded = _matcher(exclude, "exclude")
    chosen: list[tuple[str, str]] = []
    # os.scandir, not Path.rglob: a directory of thousands of files is walked in
    # milliseconds, and hidden entries are pruned before descending into them.
    # Each folder carries the (device, inode) of the folders above it: a symlink
    # that leads back to one of them is a loop, refused rather than followed
    # until the system gives up (ELOOP, which ended in exit 70).
    top = _identity(str(directory))
    stack: list[tuple[str, str, frozenset[tuple[int, int]]]] = [
        (str(directory), "", frozenset({top}) if top else frozenset())]
    while stack:
        folder, prefix, above = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            raise UsageError(f"{prefix or directory}: cannot list: {exc.strerror}",
                             code="unreadable") from exc
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relative = prefix + entry.name
            try:
                is_dir = entry.is_dir()
                is_file = not is_dir and entry.is_file()
            except OSError as exc:  # a symlink loop (ELOOP) and the like
                raise _unusable_link(entry.path, exc) from None
            if is_dir:
                here = _identity(entry.path) if entry.is_symlink() else _entry_identity(entry)
                if here in above:
                    raise UsageError(
                        f"{shown_path(entry.path)}: symlink loop: it leads back to "
                        f"{shown_path(os.path.realpath(entry.path))}, which contains it",
                        code="symlink-loop", hint="Remove the link.")
                if entry.is_symlink():
                    _check_inside(entry.path, region)
                stack.append((entry.path, relative + "/",
                              above | {here} if here else above))
                continue
            if not is_file:
                if entry.is_symlink() and entry.name.endswith(".sql"):
                    try:
                        os.stat(entry.path)
                    except OSError as exc:
                        raise _unusable_link(entry.path, exc) from None
                continue
            if selected is not None:
                if not selected(relative):
                    continue
            elif (not relative.endswith(".sql") or is_down_migration(relative)
                  or _OTHER_DIALECT.search(entry.name)):
                continue
            if excluded is not None and excluded(relative):
                continue
            if entry.is_symlink():
                _check_inside(entry.path, region)
            chosen.append((relative, entry.path))
    if not chosen:
        raise UsageError(
            f"no migration files (*.sql) under {directory}",
            hint="Check the directory, or select files with --glob.",
            code="no-migrations",
        )
    chosen.sort()  # read in a fixed order, so the file an error names is always the same
    if not read:
        files = [MigrationFile(rel, path, "", "") for rel, path in chosen]
    else:
        files = [_read(rel, path) for rel, path in chosen]
    if not ordered:  # a caller that only analyses each file needs no order
        return files, Layout("natural", "")
    layout = detect(str(directory), [f.path for f in files],
                    [f.raw for f in files] if read else None, sort)
    sort_in_order(files, layout.order, attrgetter("path"))  # (read sorted as strings)
    return files, layout


_MARKERS = ("calctl.toml", "pyproject.toml", ".git")


def _project_of(directory: str) -> str:
    """The real path of the project ``directory`` belongs to: the nearest folder above
    it, *as written*, holding calctl.toml, pyproject.toml or .git (else the directory).

    As written, not resolved: ``migrations`` linked to /elsewhere belongs to the project
    holding the link. A linked folder's markers are not looked at (they are the link
    target's), and the search stops below a shared scratch directory (like /tmp), where
    anyone may leave a marker."""
    here = os.path.abspath(directory)
    probe = here
    while True:
        if is_shared_scratch(probe):
            break
        if not os.path.islink(probe) and any(
                os.path.lexists(os.path.join(probe, m)) for m in _MARKERS):
            return os.path.realpath(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return os.path.realpath(here)


def _check_inside(path: str, region: str) -> None:
    """A migration file or folder whose real path leaves the project is refused: a
    committed link to ~/.pgpass would otherwise be read, and its lines quoted in errors."""
    real = os.path.realpath(path)
    if real == region or real.startswith(region.rstrip("/") + "/"):
        return
    raise UsageError(
        f"{shown_path(path)}: is a symbolic link (or lies under one) leading to {real}, "
        f"outside the project {region}, and calctl reads no migration from outside it",
        code="link-outside-project",
        hint="Copy the file into the project, or pass the directory it is in as the "
        "argument.")


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _entry_identity(entry: os.DirEntry[str]) -> tuple[int, int] | None:
    try:
        info = entry.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def _unusable_link(path: str, exc: OSError) -> UsageError:
    """A symlink that leads nowhere, or round in a loop, named with where it points."""
    import errno

    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    why = "is a symlink loop" if exc.errno == errno.ELOOP else "points nowhere"
    return UsageError(f"{shown_path(path)}:1: cannot read: the symlink {why} ({target})",
                      code="unreadable",
                      hint="Fix or remove the link, or leave it out with --exclude.")


def shown_path(name: str) -> str:
    """A file's path for messages: relative to the working directory when it is below it."""
    try:
        relative = os.path.relpath(name)
    except ValueError:
        return name
    return name if relative.startswith("..") else relative


def _read(relative: str, name: str) -> MigrationFile:
    try:
        data = _read_bytes(name)
    except OSError as exc:
        raise UsageError(f"{shown_path(name)}:1: cannot read: {exc.strerror}",
                         code="unreadable", hint="Check the file's permissions.") from exc
    if data is None:
        raise UsageError(
            f"{shown_path(name)}: file is over the {MAX_FILE_BYTES // (1024 * 1024)} MiB "
            "limit for a migration", hint="Split it, or exclude it with --exclude.",
            code="file-too-large")
    try:
        raw = decode(data, relative)
    except UsageError:
        raw = decode(data, shown_path(name))  # raises again, naming the file fully
    text = up_section(raw) if "migrate:" in raw or "+goose" in raw else raw
    return MigrationFile(relative, name, text, raw)


def _read_bytes(name: str) -> bytes | None:
    """The file's bytes, read with plain system calls (half the cost of ``open().read()``
    for thousands of small files); None when it is over the size limit, found without
    reading it (a sparse file of any size costs nothing)."""
    fd = os.open(name, os.O_RDONLY)
    try:
        chunk = os.read(fd, 1 << 16)
        if len(chunk) < 1 << 16:  # most migrations: one read, no fstat
            return chunk
        if os.fstat(fd).st_size > MAX_FILE_BYTES:
            return None
        chunks = [chunk]
        size = len(chunk)
        while chunk and size <= MAX_FILE_BYTES:  # it may grow while read
            chunk = os.read(fd, 1 << 20)
            chunks.append(chunk)
            size += len(chunk)
        return None if size > MAX_FILE_BYTES else b"".join(chunks)
    finally:
        os.close(fd)
