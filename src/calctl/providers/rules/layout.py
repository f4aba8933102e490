"""Renaming a migration the way its tool expects: what moves together, what a name may be.

- golang-migrate (and pop): ``N_name.up.sql`` moves with its ``N_name.down.sql``;
- Prisma (``<ts>_name/migration.sql``) and diesel (``<version>_name/up.sql``): every
  file of the folder moves to the renamed folder;
- Flyway: ``V<version>__name.sql`` keeps a valid version (``V3_1__``) and moves with
  its undo file ``U<version>__name.sql``;
- anything else with a numeric prefix (dbmate, sql-migrate, calctl's own engine):
  the file and a ``name.down.sql`` / ``name_down.sql`` beside it.

A numeric prefix keeps its shape: its width and any separators
(``2020-01-01-000000``) stay, only the number changes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from calctl.sql.discovery import migration_key

Style = Literal["folder", "golang", "flyway", "plain"]
_FLYWAY = re.compile(r"^([Vv])(\d+(?:[._]\d+)*)__(.*)$")
_NUMERIC = re.compile(r"^(\d(?:[\d-]*\d)?)(?=[_.\-])(.*)$")
_GOLANG = re.compile(r"\.up\.sql$")


@dataclass(frozen=True)
class Unit:
    """One migration as its tool sees it: the path discovery lists (``path``, relative to
    the migration directory) and every file that moves with it."""

    path: str
    style: Style
    prefix: str          # the version text: "002", "2020-01-01-000000", "3_1" (Flyway)
    rest: str            # what follows the prefix in the head component
    members: tuple[str, ...]

    @property
    def head(self) -> str:
        return self.path.split("/", 1)[0]

    def with_prefix(self, prefix: str) -> list[tuple[str, str]]:
        """(old, new) paths of every member when the version becomes ``prefix``."""
        out = []
        for member in self.members:
            out.append((member, _replace_prefix(member, self, prefix)))
        return out

    def path_with(self, prefix: str) -> str:
        return _replace_prefix(self.path, self, prefix)


def _replace_prefix(member: str, unit: Unit, prefix: str) -> str:
    if unit.style == "folder":
        _, _, tail = member.partition("/")
        return f"{prefix}{unit.rest}/{tail}"
    name = member.rsplit("/", 1)[-1]
    folder = member[: len(member) - len(name)]
    if unit.style == "flyway":
        m = _FLYWAY.match(name)
        letter = name[0] if m is None else m.group(1)
        rest = name.split("__", 1)[1]
        return f"{folder}{letter}{prefix}__{rest}"
    m = _NUMERIC.match(name)
    return f"{folder}{prefix}{m.group(2) if m else name}"


def unit_of(directory: Path, path: str) -> Unit | None:
    """The unit of the up migration ``path`` (relative to ``directory``); None when its
    name has no version prefix calctl knows how to change."""
    head, sep, _ = path.partition("/")
    if sep:
        m = _NUMERIC.match(head)
        if m is None:
            return None
        folder = directory / head
        members = sorted(p.relative_to(directory).as_posix() for p in folder.rglob("*")
                         if p.is_file() or p.is_symlink())
        return Unit(path, "folder", m.group(1), m.group(2), tuple(members) or (path,))
    name = path
    m_fly = _FLYWAY.match(name)
    if m_fly:
        members = [path]
        undo = f"U{m_fly.group(2)}__{m_fly.group(3)}"
        if (directory / undo).is_file():
            members.append(undo)
        return Unit(path, "flyway", m_fly.group(2), "__" + m_fly.group(3), tuple(members))
    m = _NUMERIC.match(name)
    if m is None:
        return None
    if _GOLANG.search(name):
        down = _GOLANG.sub(".down.sql", name)
        members = [path] + ([down] if (directory / down).is_file() else [])
        return Unit(path, "golang", m.group(1), m.group(2), tuple(members))
    stem = name.removesuffix(".sql")
    members = [path] + [c for c in (f"{stem}.down.sql", f"{stem}_down.sql")
                        if (directory / c).is_file()]
    return Unit(path, "plain", m.group(1), m.group(2), tuple(members))


# ---------------------------------------------------------------- new versions


def _digits(prefix: str) -> str:
    return prefix.replace("-", "")


def _shaped(number: int, like: str) -> str:
    """``number`` written in the shape of ``like`` (width and '-' separators kept)."""
    digits = str(number).zfill(len(_digits(like)))
    if len(digits) > len(_digits(like)) or "-" not in like:
        return digits
    out, i = [], 0
    for ch in like:
        if ch == "-":
            out.append("-")
        else:
            out.append(digits[i])
            i += 1
    return "".join(out)


def _flyway_version(prefix: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.split(r"[._]", prefix))


def candidates(unit: Unit, before: Unit | None, after: Unit | None, *,
               suffix_ok: bool) -> list[str]:
    """Version prefixes that would put ``unit`` between ``before`` and ``after`` in
    filename order, best first (checked by the caller against every other name)."""
    out: list[str] = []
    if unit.style == "flyway":
        lo = _flyway_version(before.prefix) if before and before.style == "flyway" else None
        if lo is not None:
            out.append("_".join(map(str, (*lo[:-1], lo[-1] + 1))))
            out.append("_".join(map(str, (*lo, 1))))
        hi = _flyway_version(after.prefix) if after and after.style == "flyway" else None
        if lo is None and hi is not None:
            if hi[-1] > 0:
                out.append("_".join(map(str, (*hi[:-1], hi[-1] - 1))))
            out.append("_".join(map(str, (*hi[:-1], max(hi[-1] - 1, 0), 5))))
        return out
    try:
        lo_n = int(_digits(before.prefix)) if before else None
        hi_n = int(_digits(after.prefix)) if after else None
    except ValueError:
        return out
    if lo_n is not None and (hi_n is None or hi_n - lo_n >= 2):
        out.append(_shaped(lo_n + 1, unit.prefix))
    elif lo_n is None and hi_n is not None and hi_n >= 1:
        out.append(_shaped(hi_n - 1, unit.prefix))
    if suffix_ok and unit.style == "plain" and before is not None:
        # natural order: "002a_x" sorts after "002_y" and before "003_z"
        out.append(before.prefix + "a")
    return out


def sort_key(path: str) -> tuple[int, tuple[int, ...], tuple[int | str, ...]]:
    return migration_key(path)


def order_of(paths: Sequence[str]) -> list[str]:
    return sorted(paths, key=migration_key)
