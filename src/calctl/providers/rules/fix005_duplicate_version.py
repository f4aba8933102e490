from __future__ import annotations

import re

from calctl.providers.rules.base import FixRule, Found, RuleInput
from calctl.providers.rules.layout import candidates, order_of, unit_of
from calctl.providers.rules.reorder import Move, rename_edits
from calctl.sql.rules.cal005_duplicate_version import version_of

_DUPLICATE = re.compile(r"duplicate (migration )?(version|file)|version .* (already|more than "
                        r"once)|found more than one migration", re.I)


class DuplicateVersion(FixRule):
    """Two migrations share one version prefix.

    Problem: golang-migrate, Flyway and dbmate key their history on the version; two
    files with one version make them refuse the directory ("duplicate migration file",
    "Found more than one migration with version"), or one file is skipped.
    Fix: renumber the unapplied one of the two to a free version that keeps its place
    in filename order (its .down file or folder with it).
    """

    code = "FIX005"
    name = "duplicate-version"

    def diagnose(self, inp: RuleInput) -> Found | None:
        if not _DUPLICATE.search(inp.message + "\n" + inp.report.traceback):
            return None
        paths = order_of([f.path for f in inp.analysis.files])
        seen: dict[str, str] = {}
        for path in paths:
            version = version_of(path)
            if version is None:
                continue
            first = seen.setdefault(version, path)
            if first == path:
                continue
            summary = f"{first} and {path} both have version {version}"
            return self._renumber(inp, paths, first, path, summary)
        return None

    def _renumber(self, inp: RuleInput, paths: list[str], first: str, second: str,
                  summary: str) -> Found:
        for moving in (second, first):
            if inp.is_applied(moving):
                continue
            unit = unit_of(inp.directory, moving)
            if unit is None:
                continue
            rest = [p for p in paths if p != moving]
            i = paths.index(moving)
            before = unit_of(inp.directory, paths[i - 1]) if i > 0 else None
            after = unit_of(inp.directory, paths[i + 1]) if i + 1 < len(paths) else None
            taken = {version_of(p) for p in rest}
            for prefix in candidates(unit, before, after, suffix_ok=False):
                new = unit.path_with(prefix)
                if version_of(new) in taken or (inp.directory / new).exists():
                    continue
                ordered = order_of([*rest, new])
                if ordered.index(new) != i:
                    continue
                move = Move(unit.with_prefix(prefix), f"renumber {moving}")
                renames = ", ".join(f"{o} → {n}" for o, n in move.renames)
                return Found(summary, f"Fix: give {moving} its own version ({renames}), "
                             "keeping its place in filename order.", rename_edits(inp, move),
                             confidence=0.8)
        return Found(summary, "No free version keeps the order and renames only an unapplied "
                     "migration; renumber one of them by hand.", confidence=0.6)
