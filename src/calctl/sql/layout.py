"""Which migration tool a directory belongs to, and the order that tool runs its files in.

"Filename order" — what ``migrate order --check`` compares the plan with, and what
``migrate apply --order filename`` runs — is the order of the tool the directory was
written for, because that is the order the files really run in:

=================  ==========================================  ===========================
order              the tool's rule                             detected from
=================  ==========================================  ===========================
``prisma``         byte order of the folder names              every file is
                                                               ``<folder>/migration.sql``
                                                               (or ``migration_lock.toml``)
``diesel``         the version (folder name before its first   every file is
                   ``_``, ``-`` removed) compared as text      ``<folder>/up.sql``
``flyway``         ``V<version>__``: numeric, part by part     a ``V…__`` or ``R__`` file
                   (``.`` or ``_`` between parts, ``1.0`` =
                   ``1``); repeatable ``R__`` files last, by
                   description
``goose``          the number before the first ``_``           a ``-- +goose Up`` line in
                                                               every file
``dbmate``         byte order of the file names                a ``-- migrate:up`` line in
                                                               every file
``golang-migrate`` the number before the first ``_``           every file is
                                                               ``<n>_<name>.up.sql``
``sqlx``           the number before the first ``_``           only with ``--sort sqlx``
``natural``        natural order of the relative paths         anything else
                   (``2_x`` before ``10_x``)
``lexical``        byte order of the relative paths            only with ``--sort lexical``
=================  ==========================================  ===========================

Natural and a tool's order agree on most directories; they differ where it matters
for a CI gate: Prisma's ``20250625_x`` runs *after* ``20250604085536_y`` (byte order),
natural order puts it first, and ``--check`` then reported a move the tool never
makes. Ties (two files with one version) are broken by natural order. Pure and cheap:
detection looks at the paths and, for goose and dbmate, scans the texts for their
markers (a substring test first).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from calctl.config import MIGRATE_SORTS as SORTS
from calctl.errors import UsageError

T = TypeVar("T")

ORDERS = SORTS[1:]

# the history tables a tool's order may be adopted from (migrate apply/status --adopt):
# golang-migrate's and sqlx's reversible files share the `<n>_<name>.up.sql` naming
TOOLS: dict[str, tuple[str, ...]] = {
    "prisma": ("prisma",), "flyway": ("flyway",), "goose": ("goose",),
    "dbmate": ("dbmate",), "diesel": ("diesel",), "golang-migrate": ("golang-migrate", "sqlx"),
    "sqlx": ("sqlx",),
}

DESCRIPTIONS = {
    "natural": "natural order of the file names",
    "lexical": "byte order of the file names",
    "flyway": "Flyway's version order, repeatable R__ migrations last",
    "prisma": "byte order of the folder names, as prisma migrate runs them",
    "golang-migrate": "golang-migrate's numeric version order",
    "goose": "goose's numeric version order",
    "dbmate": "byte order of the file names, as dbmate runs them",
    "diesel": "diesel's version order (folder names as text)",
    "sqlx": "sqlx's numeric version order",
}


class Layout(NamedTuple):
    """A directory's order: its name (one of :data:`ORDERS`), and why it was chosen."""

    order: str
    why: str

    @property
    def tools(self) -> tuple[str, ...]:
        """The tools whose history table ``migrate apply/status`` may adopt."""
        return TOOLS.get(self.order, ())


def check_sort(value: str, where: str) -> str:
    """``value`` as a sort name, or a UsageError naming ``where`` (the flag or setting)."""
    name = value.strip().lower()
    if name not in SORTS:
        raise UsageError(f"{where}: {value!r} is not a sort order",
                         hint="Use one of: " + ", ".join(SORTS) + ".", code="bad-sort")
    return name


_PRISMA = re.compile(r"[^/]+/migration\.sql")
_DIESEL = re.compile(r"[^/]+/up\.sql")
_FLYWAY_NAME = re.compile(r"(?:[Vv]\d[\d._]*|R)__")
_GOOSE_UP = re.compile(r"^--\s*\+goose\s+up\b", re.I | re.M)
_DBMATE_UP = re.compile(r"^\s*--\s*migrate:up\b", re.M)
_UP_SQL = re.compile(r"\d+_[^/]*\.up\.sql")


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def detect(directory: str, paths: Sequence[str], texts: Sequence[str] | None = None,
           sort: str = "auto") -> Layout:
    """The order of the directory holding ``paths`` (relative, ``/``-separated): ``sort``
    when it names one, else the tool the files were written for (see the module)."""
    sort = check_sort(sort, "migrate.sort") if sort != "auto" else sort
    if sort != "auto":
        return Layout(sort, "chosen")
    if not paths:
        return Layout("natural", "")
    # (run on every path, twice in a cold `migrate order`: a substring test first skips
    # the patterns that cannot match — they need a folder, or "__")
    flat = not any("/" in p for p in paths)
    if not flat:
        fullmatch = _PRISMA.fullmatch
        prisma = sum(1 for p in paths if fullmatch(p))
        if prisma == len(paths):
            return Layout("prisma", "every file is <folder>/migration.sql")
        if prisma and os.path.exists(os.path.join(directory, "migration_lock.toml")):
            return Layout("prisma", "migration_lock.toml")
        if all(map(_DIESEL.fullmatch, paths)):
            return Layout("diesel", "every file is <folder>/up.sql")
    match = _FLYWAY_NAME.match
    if any("__" in p for p in paths) and any(match(_base(p)) for p in paths):
        return Layout("flyway", "V<version>__ file names")
    # goose and dbmate require their marker in every file: a directory where only
    # some files have one is not theirs (nor is one with folders)
    if texts is not None and flat:
        if all("+goose" in t and _GOOSE_UP.search(t) for t in texts):
            return Layout("goose", "-- +goose Up annotations")
        if all("migrate:up" in t and _DBMATE_UP.search(t) for t in texts):
            return Layout("dbmate", "-- migrate:up sections")
    if flat and all(_UP_SQL.fullmatch(p) for p in paths):
        return Layout("golang-migrate", "<version>_<name>.up.sql file names")
    return Layout("natural", "")


# ---------------------------------------------------------------- sort keys

_DIGITS = re.compile(r"(\d+)")


def natural_key(path: str) -> tuple[int | str, ...]:
    """Sort key that orders ``2_x`` before ``10_x`` (numbers compared as numbers).

    Splitting on the digit runs leaves text at even positions and digits at odd ones
    (the text may be empty at either end), so two keys always compare text with text
    and number with number; a name that starts with a digit has '' first and sorts
    before one that starts with text, as with a digit-first comparison."""
    parts: list[int | str] = list(_DIGITS.split(path))
    parts[1::2] = map(int, parts[1::2])
    return tuple(parts)


def natural_already(paths: Sequence[str]) -> bool:
    """Whether ``paths``, sorted as strings, are in natural order already: sorting them by
    :func:`natural_key` (stable) would move nothing. Usually true (zero-padded numbers),
    and ~3× cheaper to find out than the keys: each neighbour pair is compared by its first
    differing character, and only a pair that differs inside digit runs of unequal length
    (``2_`` / ``10_``) or between a digit and another character needs the keys."""
    for a, b in itertools.pairwise(paths):
        shorter = min(len(a), len(b))
        i = 0
        while i < shorter and a[i] == b[i]:
            i += 1
        if i == shorter:
            continue  # a prefix of the other: ahead in both orders (or tied)
        x, y = a[i], b[i]  # (isdecimal: what the key's \d matches)
        if x.isdecimal() and y.isdecimal():
            # in the digit run both share the start of: as long in both, it compares as
            # text does (a common prefix, then x < y) — when x and y are ASCII digits,
            # whose code points are in the order of their values ("4" < "٣", 4 > 3)
            if x <= "9" and y <= "9" and _run_end(a, i) == _run_end(b, i):
                continue
        elif not (x.isdecimal() or y.isdecimal()):
            # in text in both (a digit run before it is the same in both): as text
            continue
        if natural_key(a) > natural_key(b):
            return False
    return True


def _run_end(text: str, i: int) -> int:
    while i < len(text) and text[i].isdecimal():
        i += 1
    return i


def _bytes(text: str) -> bytes:
    # the tools compare bytes; a name that is not UTF-8 arrives as surrogate escapes
    return text.encode("utf-8", "surrogateescape")


_FLYWAY_VERSION = re.compile(r"^[Vv](\d+(?:[._]\d+)*)__")
_VERSION_SPLIT = re.compile(r"[._]")


def flyway_key(path: str) -> tuple[int, tuple[int, ...], tuple[int | str, ...]]:
    """Flyway: versioned files by version (``V1__`` < ``V1_2__`` < ``V1.10__``, trailing
    zero parts ignored, as Flyway compares them), repeatable ``R__`` files after all of
    them by description; other files first, in natural order."""
    name = _base(path)
    if name.startswith("R__"):
        return (1, (), natural_key(name[3:]))
    m = _FLYWAY_VERSION.match(name)
    version: tuple[int, ...] = ()
    if m:
        parts = [int(p) for p in _VERSION_SPLIT.split(m.group(1))]
        while len(parts) > 1 and parts[-1] == 0:
            parts.pop()
        version = tuple(parts)
    return (0, version, natural_key(path))


_LEADING_NUMBER = re.compile(r"(\d+)_")


def numeric_version_key(path: str) -> tuple[int, int, tuple[int | str, ...]]:
    """golang-migrate, goose, sqlx: the number before the file name's first ``_``, as a
    number; files without one (the tools ignore them) after the versioned ones."""
    m = _LEADING_NUMBER.match(_base(path))
    if m is None:
        return (1, 0, natural_key(path))
    return (0, int(m.group(1)), natural_key(path))


def prisma_key(path: str) -> tuple[bytes, ...]:
    # folder by folder: "a/…" before "a-b/…" as Prisma compares the folder names, which
    # a comparison of whole paths gets wrong ('-' < '/')
    return tuple(map(_bytes, path.split("/")))


def dbmate_key(path: str) -> tuple[bytes, bytes]:
    return (_bytes(_base(path)), _bytes(path))


def diesel_key(path: str) -> tuple[bytes, bytes]:
    """diesel: the version is the folder name before its first ``_`` with ``-`` removed
    (``2017-07-12-181524_users`` → ``20170712181524``), compared as text."""
    folder = path.split("/", 1)[0]
    return (_bytes(folder.split("_", 1)[0].replace("-", "")), _bytes(path))


def lexical_key(path: str) -> bytes:
    return _bytes(path)


KEYS: dict[str, Callable[[str], Any]] = {
    "natural": natural_key, "lexical": lexical_key, "flyway": flyway_key,
    "prisma": prisma_key, "golang-migrate": numeric_version_key, "goose": numeric_version_key,
    "sqlx": numeric_version_key, "dbmate": dbmate_key, "diesel": diesel_key,
}


def sort_key(order: str) -> Callable[[str], Any]:
    """The key that sorts relative paths in ``order``."""
    return KEYS[order]


def sort_in_order(items: list[T], order: str, path: Callable[[T], str]) -> None:
    """Sort ``items``, already sorted by ``path`` as strings, in ``order`` (stable). The
    natural order is checked first (:func:`natural_already`): usually nothing moves."""
    if order == "natural" and natural_already(list(map(path, items))):
        return
    key = KEYS[order]
    items.sort(key=lambda item: key(path(item)))
