"""Which problems ``migrate lint`` reports: rule selection as ruff does it.

A *selector* names rules: a code (``CAL011``), a rule's name
(``require-concurrent-index-creation``), one of squawk's names for it
(``squawk``: a team switching keeps its names), a code prefix (``CAL0``) or ``ALL``.
Selectors come in layers, lowest first — the config's ``[migrate.lint]`` (with
``.squawk.toml``'s ``excluded_rules`` as ignores), then the command line — and each
layer has ``select`` (replaces what the layers below chose), ``extend_select`` (adds)
and ``ignore`` (removes). Within a layer the more specific selector wins (``ALL`` < a
prefix, longer prefixes more specific < a code or a name), and at equal specificity
ignore wins: ``select = ["ALL"], ignore = ["CAL0"], extend_select = ["CAL008"]``
leaves CAL008 of the CAL0 rules.

With no ``select`` anywhere, every rule is on except the opt-in ones
(:attr:`~calctl.sql.rules.Rule.opt_in`, squawk's opt-in rules), which a selector must
name — by code, name, prefix or ``ALL``.

``per_file_ignores`` maps gitignore-style globs (the ``pathspec`` library, matched
against the file's path relative to the project root) to the selectors ignored in the
files they match; ``severity`` maps selectors to ``error``, ``warning`` or ``info``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

from calctl.errors import UsageError

if TYPE_CHECKING:
    from pathspec import PathSpec

    from calctl.documents import Problem
    from calctl.sql.rules.base import Severity

ALL = "ALL"
_EXACT = 1_000  # the specificity of a code or a name: above any prefix
_PREFIX = re.compile(r"[A-Z]+[0-9]*")
_HINT = ("`calctl migrate rules` lists every code, name and squawk name; a prefix such as "
         "CAL0, or ALL, selects several.")


@dataclass(frozen=True)
class Layer:
    """One source's selectors; ``where`` names it in errors (``--select``,
    ``calctl.toml:7``)."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    where: str = ""
    # selectors of names calctl does not know are skipped, not refused (.squawk.toml:
    # squawk's names for rules calctl has no twin of)
    lenient: bool = False


def split_selectors(values: Iterable[str]) -> tuple[str, ...]:
    """``["CAL001,CAL002", " CAL003 "]`` → ``("CAL001", "CAL002", "CAL003")``."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


def _registry() -> list[tuple[str, str, tuple[str, ...], bool]]:
    """(code, name, squawk names, opt-in) of every rule."""
    from calctl.sql.rules import RULES

    return [(cls.code, cls.name, tuple(cls.squawk), cls.opt_in) for cls in RULES]


def matching(selector: str, where: str, *, lenient: bool = False,
             ) -> tuple[int, frozenset[str]]:
    """(specificity, codes) of the rules ``selector`` names; an unknown one is a
    UsageError naming ``where`` (skipped, as no rules, when ``lenient``)."""
    token = selector.strip()
    upper = token.upper()
    rules = _registry()
    if upper == ALL:
        return 0, frozenset(code for code, _, _, _ in rules)
    from calctl.sql.directives import squawk_names

    aliases = squawk_names(token.lower())
    exact = frozenset(code for code, name, squawk, _ in rules
                      if upper == code or token.lower() == name
                      or any(alias in squawk for alias in aliases))
    if exact:
        return _EXACT, exact
    if _PREFIX.fullmatch(upper):
        prefixed = frozenset(code for code, _, _, _ in rules if code.startswith(upper))
        if prefixed:
            return len(upper), prefixed
    if lenient:
        return _EXACT, frozenset()
    raise UsageError(f"{where}: {selector!r} names no lint rule", hint=_HINT,
                     code="unknown-rule")


def enabled_codes(layers: Sequence[Layer]) -> frozenset[str]:
    """The codes the layers select (see the module's docstring)."""
    enabled = {code for code, _, _, opt_in in _registry() if not opt_in}
    for layer in layers:
        if layer.select is not None:
            enabled = set()
        entries = [(*matching(s, layer.where, lenient=layer.lenient), 0)
                   for s in (*(layer.select or ()), *layer.extend_select)]
        entries += [(*matching(s, layer.where, lenient=layer.lenient), 1)
                    for s in layer.ignore]
        # least specific first, and at equal specificity the ignores last: they win
        for _, codes, ignore in sorted(entries, key=lambda e: (e[0], e[2])):
            if ignore:
                enabled -= codes
            else:
                enabled |= codes
    return frozenset(enabled)


def severities(overrides: Mapping[str, str], where: str) -> tuple[tuple[str, str], ...]:
    """code → severity of ``overrides`` (selector → severity), the more specific selector
    winning."""
    chosen: dict[str, str] = {}
    ranked = sorted(((*matching(s, where), severity) for s, severity in overrides.items()),
                    key=lambda e: e[0])
    for _, codes, severity in ranked:
        chosen.update(dict.fromkeys(codes, severity))
    return tuple(sorted(chosen.items()))


@dataclass(frozen=True)
class Selection:
    """What ``migrate lint`` reports of the problems the rules found."""

    enabled: frozenset[str]
    # (gitignore-style glob, codes ignored in the files it matches)
    per_file: tuple[tuple[str, frozenset[str]], ...] = ()
    severity: tuple[tuple[str, str], ...] = ()   # code → severity
    prefix: str = ""  # the migration directory relative to the project root, with "/"

    def apply(self, problems: Iterable[Problem]) -> list[Problem]:
        """The problems of enabled rules not ignored for their file, severities
        overridden."""
        severity = dict(self.severity)
        ignored = self._per_file_ignores()
        kept: list[Problem] = []
        for problem in problems:
            if problem.code not in self.enabled:
                continue
            if ignored and any(problem.code in codes and spec.match_file(
                    self.prefix + problem.path) for spec, codes in ignored):
                continue
            wanted = severity.get(problem.code)
            if wanted is not None and wanted != problem.severity:
                problem = replace(problem, severity=cast("Severity", wanted))
            kept.append(problem)
        return kept

    def _per_file_ignores(self) -> list[tuple[PathSpec[Any], frozenset[str]]]:
        if not self.per_file:
            return []
        from pathspec import PathSpec  # ~60 ms to import: only when there are globs

        return [(PathSpec.from_lines("gitignore", [glob]), codes)
                for glob, codes in self.per_file]


def per_file_ignores(table: Mapping[str, Sequence[str]], where: str, *,
                     lenient: bool = False) -> tuple[tuple[str, frozenset[str]], ...]:
    """``{glob: [selectors]}`` → ((glob, codes), …); a glob pathspec cannot read is a
    UsageError naming ``where``."""
    if not table:
        return ()
    from pathspec import PathSpec  # ~60 ms to import: only when there are globs

    found: list[tuple[str, frozenset[str]]] = []
    for glob, selectors in table.items():
        try:
            PathSpec.from_lines("gitignore", [glob])
        except (ValueError, re.error) as exc:  # re.error: a bad range such as [z-a]
            raise UsageError(f"{where}: per-file glob {glob!r} is not a valid gitignore "
                             f"pattern: {exc}", code="config-value") from None
        codes = frozenset().union(*(matching(s, where, lenient=lenient)[1]
                                    for s in split_selectors(selectors)))
        if codes:
            found.append((glob, codes))
    return tuple(found)
