"""Adopting a database another tool migrated: what its history table says is applied.

A database that Prisma, golang-migrate, goose, Flyway, diesel, sqlx or dbmate has
migrated records its history in that tool's table, not in ``calctl_migrations``.
Running the whole directory again would fail on the first ``CREATE TABLE`` (or, worse,
run data migrations twice), so ``migrate apply/status`` read the table of the tool the
directory belongs to (:mod:`calctl.sql.layout`) — with ``--adopt``, or on their own
when calctl's table does not exist yet — and count what it records as applied:

================  ===============================  =======================================
tool              table                            applied
================  ===============================  =======================================
prisma            ``_prisma_migrations``           rows with ``finished_at`` set and
                                                   ``rolled_back_at`` null, by folder name
golang-migrate    ``schema_migrations`` (with a    every version up to the one recorded
                  ``dirty`` column)                (it keeps one row)
goose             ``goose_db_version``             the latest row of each ``version_id``
                                                   has ``is_applied``
flyway            ``flyway_schema_history``        ``success`` rows by version (a
                                                   baseline covers every version up to
                                                   it), repeatables by script name
diesel            ``__diesel_schema_migrations``   the versions listed
sqlx              ``_sqlx_migrations``             ``success`` rows by version
dbmate            ``schema_migrations`` (no        the versions listed
                  ``dirty`` column)
================  ===============================  =======================================

A history the tool itself would refuse to continue from — golang-migrate's ``dirty``
flag, a Prisma migration started and never finished nor rolled back, a failed Flyway
or sqlx row — is a :class:`~calctl.errors.StateError` naming the version: calctl does
not guess what half of a migration ran.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from calctl.errors import StateError
from calctl.sql.layout import flyway_key

if TYPE_CHECKING:
    import psycopg

TABLES = {
    "prisma": "_prisma_migrations", "golang-migrate": "schema_migrations",
    "goose": "goose_db_version", "flyway": "flyway_schema_history",
    "diesel": "__diesel_schema_migrations", "sqlx": "_sqlx_migrations",
    "dbmate": "schema_migrations",
}


@dataclass(frozen=True)
class Adopted:
    """What one tool's history table records as applied, matched to the directory's files."""

    tool: str
    table: str
    applied: dict[str, str] = field(default_factory=dict)  # path → when ("" if unknown)
    rows: int = 0

    @property
    def source(self) -> str:
        return f"{self.tool}'s {self.table}"


Rows = list[tuple[Any, ...]]


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


_NUMBER = re.compile(r"(\d+)_")
_DIGITS = re.compile(r"\d+")


def _number(path: str) -> int | None:
    m = _NUMBER.match(_base(path))
    return int(m.group(1)) if m else None


def _when(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else ""


def _failed(tool: str, table: str, what: str, hint: str) -> StateError:
    return StateError(f"{tool}'s history ({table}) records {what}, so calctl cannot tell "
                      "what of it ran", hint=hint, code="foreign-history-failed")


def _prisma(rows: Rows, paths: Sequence[str], table: str) -> dict[str, str]:
    done: dict[str, str] = {}
    for name, finished, rolled_back in rows:
        if rolled_back is not None:
            continue
        if finished is None:
            raise _failed("prisma", table, f"migration {name} as started and never finished",
                          "Fix the database, then `prisma migrate resolve --applied "
                          f"{name}` (or --rolled-back), as prisma migrate deploy asks.")
        done[str(name)] = _when(finished)
    return {p: done[p.split("/", 1)[0]] for p in paths if p.split("/", 1)[0] in done}


def _golang_migrate(rows: Rows, paths: Sequence[str], table: str) -> dict[str, str]:
    if not rows:
        return {}
    version, dirty = int(rows[0][0]), bool(rows[0][1])
    if dirty:
        raise _failed("golang-migrate", table, f"version {version} as dirty (it failed "
                      "halfway)", f"Repair the database by hand, then `migrate force "
                      f"{version}` (or the version before it) and run again.")
    return {p: "" for p in paths if (n := _number(p)) is not None and n <= version}


def _goose(rows: Rows, paths: Sequence[str], table: str) -> dict[str, str]:
    latest = {int(v): (bool(applied), _when(at)) for v, applied, at in rows}
    return {p: latest[n][1] for p in paths
            if (n := _number(p)) is not None and n in latest and latest[n][0] and n > 0}


def _flyway(rows: Rows, paths: Sequence[str], table: str) -> dict[str, str]:
    versions: dict[tuple[int, ...], str] = {}
    scripts: dict[str, str] = {}
    baseline: tuple[int, ...] | None = None
    for version, script, kind, success, at in rows:
        if not success:
            raise _failed("flyway", table, f"a failed migration ({script})",
                          "Fix the database, then `flyway repair` and run again.")
        if version is None:
            scripts[_base(str(script))] = _when(at)
            continue
        key = flyway_key(f"V{version}__x")[1]
        if str(kind).upper() == "BASELINE":
            baseline = max(baseline or key, key)
        versions[key] = _when(at)
    found: dict[str, str] = {}
    for p in paths:
        name = _base(p)
        if name.startswith("R__"):
            if name in scripts:
                found[p] = scripts[name]
            continue
        group, key, _ = flyway_key(p)
        if group or not key:
            continue
        if key in versions:
            found[p] = versions[key]
        elif baseline is not None and key <= baseline:
            found[p] = ""
    return found


def _diesel_version(path: str) -> str:
    return path.split("/", 1)[0].split("_", 1)[0].replace("-", "")


def _diesel(rows: Rows, paths: Sequence[str], table: str) -> dict[str, str]:
    done = {str(v): _when(at) for v, at in rows}
    return {p: done[_diesel_version(p)] for p in paths if _diesel_version(p) in done}


def _sqlx(rows: Rows, paths: Sequence[str], table: str) -> dict[str, str]:
    done: dict[int, str] = {}
    for version, success, at in rows:
        if not success:
            raise _failed("sqlx", table, f"migration {version} as partially applied",
                          "Fix the database, then delete that row and run again.")
        done[int(version)] = _when(at)
    return {p: done[n] for p in paths if (n := _number(p)) is not None and n in done}


def _dbmate(rows: Rows, paths: Sequence[str], table: str) -> dict[str, str]:
    done = {str(v) for (v,) in rows}
    found: dict[str, str] = {}
    for p in paths:
        m = _DIGITS.match(_base(p))
        if m and m.group(0) in done:
            found[p] = ""
    return found


# tool → (query on the table, which is "{t}"; the matcher of its rows)
READERS: dict[str, tuple[str, Callable[[Rows, Sequence[str], str], dict[str, str]]]] = {
    "prisma": ("SELECT migration_name, finished_at, rolled_back_at FROM {t}"
               " ORDER BY started_at", _prisma),
    "golang-migrate": ("SELECT version, dirty FROM {t} LIMIT 1", _golang_migrate),
    "goose": ("SELECT DISTINCT ON (version_id) version_id, is_applied, tstamp FROM {t}"
              " ORDER BY version_id, id DESC", _goose),
    "flyway": ('SELECT "version", script, "type", success, installed_on FROM {t}'
               " ORDER BY installed_rank", _flyway),
    "diesel": ("SELECT version, run_on FROM {t}", _diesel),
    "sqlx": ("SELECT version, success, installed_on FROM {t}", _sqlx),
    "dbmate": ("SELECT version FROM {t}", _dbmate),
}


def _table(conn: psycopg.Connection[Any], tool: str) -> str | None:
    """The schema-qualified table of ``tool`` when it exists on the search path (and,
    for ``schema_migrations``, which golang-migrate and dbmate share, has the columns of
    ``tool``'s: golang-migrate's has ``dirty``)."""
    name = TABLES[tool]
    row = conn.execute(
        "SELECT n.nspname, c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE c.oid = to_regclass(%s)", (name,)).fetchone()
    if row is None:
        return None
    if name == "schema_migrations":
        dirty = conn.execute("SELECT 1 FROM pg_attribute WHERE attrelid = %s AND attname ="
                             " 'dirty' AND NOT attisdropped", (row[1],)).fetchone()
        if (dirty is not None) != (tool == "golang-migrate"):
            return None
    return _ident(str(row[0])) + "." + _ident(name)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read(conn: psycopg.Connection[Any], tools: Sequence[str],
         paths: Sequence[str]) -> Adopted | None:
    """The first of ``tools`` whose history table exists: what it records as applied
    among ``paths`` (None when none of the tables exists)."""
    for tool in tools:
        table = _table(conn, tool)
        if table is None:
            continue
        query, match = READERS[tool]
        rows = [tuple(r) for r in conn.execute(query.format(t=table)).fetchall()]
        return Adopted(tool, table, match(rows, paths, table), len(rows))
    return None
