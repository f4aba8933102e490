"""What ``migrate lint`` reports, from its flags, ``[migrate.lint]`` and ``.squawk.toml``:
the rule selection, the PostgreSQL version, the files changed since a git ref, the files
the target database has applied, and a baseline.

Precedence, highest first: the command line, calctl's config, ``.squawk.toml``.
Everything here is settled before the output cache is consulted, and :meth:`LintPlan.key`
puts it in that cache's key (empty when nothing differs from a plain run, so a plain
run's key is the one the early child guesses).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.documents import LintReport, Problem
    from calctl.sql.baseline import LintBaseline
    from calctl.sql.discovery import MigrationFile
    from calctl.sql.selection import Selection
    from calctl.sql.squawk import SquawkConfig


_RULES = "codes, rule names, squawk's names, prefixes such as CAL0, or ALL; repeatable or "
SelectOpt = Annotated[list[str] | None, typer.Option(
    "--select", help="Report only these rules (" + _RULES + "comma-separated).",
    show_default=False)]
ExtendSelectOpt = Annotated[list[str] | None, typer.Option(
    "--extend-select", help="Report these rules too.", show_default=False)]
IgnoreOpt = Annotated[list[str] | None, typer.Option(
    "--ignore", help="Do not report these rules (" + _RULES + "comma-separated).",
    show_default=False)]
ExitZeroOpt = Annotated[bool, typer.Option(
    "--exit-zero", help="Exit 0 even when problems are found (errors of calctl itself "
    "still exit 2-4).")]
BaselineOpt = Annotated[Path | None, typer.Option(
    "--baseline", help="Report only problems this baseline (from --write-baseline) does "
    "not hold.", show_default=False)]
WriteBaselineOpt = Annotated[Path | None, typer.Option(
    "--write-baseline", help="Record today's problems in FILE (exit 0); --baseline FILE "
    "then reports only new ones.", show_default=False)]
ChangedSinceOpt = Annotated[str | None, typer.Option(
    "--changed-since", help="Report only on files changed since this git ref's merge-base "
    "with HEAD, or untracked (ordering still reads every file).", show_default=False)]
PgVersionOpt = Annotated[str | None, typer.Option(
    "--pg-version", help="The target's PostgreSQL major version (13, or 13.0) for rules "
    "that depend on it (default: setting migrate.lint.pg_version, then .squawk.toml's).",
    show_default=False)]
LintTargetOpt = Annotated[str | None, typer.Option(
    "--database-url", help="PostgreSQL URL of the target (never $DATABASE_URL implicitly): "
    "tables created by files it has not applied count as new.",
    show_default=False)]


@dataclass(frozen=True)
class LintOptions:
    """``migrate lint``'s flags beyond discovery and output."""

    select: list[str] | None = None
    extend_select: list[str] | None = None
    ignore: list[str] | None = None
    exit_zero: bool = False
    baseline: Path | None = None
    write_baseline: Path | None = None
    changed_since: str | None = None
    pg_version: str | None = None
    database_url: str | None = None


@dataclass
class LintPlan:
    """What this run reports. The rule selection is resolved only when the analysis runs
    (:meth:`selection`): the output cache keys on what chooses it (:meth:`key`), so a
    replayed run never imports the rule registry (~0.1 s)."""

    settings: Settings
    directory: Path
    options: LintOptions
    squawk: SquawkConfig | None = None
    pg_version: int | None = None
    changed: frozenset[str] | None = None   # --changed-since: the files to report on
    applied: frozenset[str] | None = None   # what the target database has applied
    baseline: LintBaseline | None = None
    baseline_text: str = ""

    @functools.cached_property
    def selection(self) -> Selection:
        """The selection (exit 2 on a selector that names no rule)."""
        return _selection(self.settings, self.directory, self.options, self.squawk)

    def chooses(self) -> tuple[object, ...]:
        """Everything that chooses the selection, as given (empty: the default)."""
        lint, o = self.settings.lint, self.options
        squawk = (self.squawk.excluded_rules, self.squawk.excluded_paths) \
            if self.squawk else ((), ())
        given = (lint.select, lint.extend_select, lint.ignore,
                 sorted(lint.per_file_ignores.items()), sorted(lint.severity.items()),
                 o.select, o.extend_select, o.ignore, squawk)
        if given == (None, (), (), [], [], None, None, None, ((), ())):
            return ()
        return (*given, _prefix(self.settings.root, self.directory))

    def key(self) -> tuple[object, ...]:
        parts: list[object] = []
        if self.chooses():
            parts.append(("selection", self.chooses()))
        if self.pg_version is not None:
            parts.append(("pg", self.pg_version))
        if self.changed is not None:
            parts.append(("changed", sorted(self.changed)))
        if self.applied is not None:
            parts.append(("applied", sorted(self.applied)))
        if self.baseline is not None:
            from hashlib import blake2b

            parts.append(("baseline", blake2b(self.baseline_text.encode()).hexdigest()))
        return tuple(parts)

    def context(self, files: list[MigrationFile]) -> dict[str, Any]:
        """The :class:`~calctl.sql.rules.RuleContext` fields this run knows."""
        context: dict[str, Any] = {}
        if self.pg_version is not None:
            context["pg_version"] = self.pg_version
        if self.applied is not None:
            context["unapplied"] = frozenset(f.path for f in files
                                             if f.path not in self.applied)
        return context

    def reported(self, problems: list[Problem]) -> list[Problem]:
        """The selected problems, of the changed files (before the baseline)."""
        found = self.selection.apply(problems)
        if self.changed is not None:
            found = [p for p in found if _about_changed(p, self.changed)]
        return found

    def filter(self, report: LintReport, files: list[MigrationFile]) -> LintReport:
        found = self.reported(report.problems)
        if self.baseline is not None:
            from calctl.sql.baseline import new_only

            found = new_only(found, files, self.baseline)
        return replace(report, problems=found)


def _about_changed(problem: Problem, changed: frozenset[str]) -> bool:
    """A problem of a changed file, or an ordering problem that names one (a new file
    sorting before the file that needs it is reported on the other file)."""
    if problem.path in changed:
        return True
    from calctl.sql.rules import rule_by_code

    rule = rule_by_code(problem.code)
    if rule is None or rule.scope != "order":
        return False
    import re

    # the whole path, not a tail of another (1_a.sql inside 01_a.sql)
    return any(re.search(r"(?<![\w./-])" + re.escape(path) + r"(?![\w/-])", problem.message)
               for path in changed)


def prepare(settings: Settings, directory: Path, options: LintOptions) -> LintPlan:
    """Settle everything ``options``, the config and ``.squawk.toml`` say (exit 2 on a
    bad selector, version, ref or baseline; 4 when the target database is unreachable)."""
    from calctl.config import check_range, pg_major
    from calctl.sql import squawk

    found = squawk.find(directory, settings.root)
    squawk_config = squawk.read(found) if found is not None else None
    pg_version = pg_major(options.pg_version, "--pg-version")
    check_range("migrate.lint.pg_version", pg_version, "--pg-version")
    if pg_version is None:
        pg_version = settings.lint.pg_version
    if pg_version is None and squawk_config is not None:
        pg_version = squawk_config.pg_version
    changed = None
    if options.changed_since is not None:
        from calctl.sql.changed import changed_paths

        changed = changed_paths(directory, options.changed_since)
    applied = _applied(settings, directory, options)
    baseline, text = None, ""
    if options.baseline is not None and options.write_baseline is None:
        from calctl.sql.baseline import load

        baseline, text = load(options.baseline)
    return LintPlan(settings, directory, options, squawk_config, pg_version, changed, applied,
                    baseline, text)


def _selection(settings: Settings, directory: Path, options: LintOptions,
               squawk_config: SquawkConfig | None) -> Selection:
    from calctl.sql.selection import (
        Layer,
        Selection,
        enabled_codes,
        matching,
        per_file_ignores,
        severities,
        split_selectors,
    )

    lint = settings.lint

    def where(key: str) -> str:
        source = settings.sources.get(f"migrate.lint.{key}", "")
        return f"{source} ([migrate.lint] {key})" if source else f"[migrate.lint] {key}"

    def checked(values: tuple[str, ...] | list[str] | None, shown: str) -> tuple[str, ...]:
        tokens = split_selectors(values or ())
        for token in tokens:
            matching(token, shown)  # an unknown selector: exit 2 naming where it is
        return tokens

    layers: list[Layer] = []
    per_file: list[tuple[str, frozenset[str]]] = []
    if squawk_config is not None:
        layers.append(Layer(ignore=squawk_config.excluded_rules, lenient=True,
                            where=str(squawk_config.path)))
        if squawk_config.excluded_paths:
            from calctl.sql.rules import RULES

            twins = [cls.code for cls in RULES if cls.squawk]
            per_file.extend(per_file_ignores(
                dict.fromkeys(squawk_config.excluded_paths, twins),
                f"{squawk_config.path} (excluded_paths)"))
    layers.append(Layer(
        None if lint.select is None else checked(lint.select, where("select")),
        checked(lint.extend_select, where("extend_select")),
        checked(lint.ignore, where("ignore"))))
    layers.append(Layer(
        None if options.select is None else checked(options.select, "--select"),
        checked(options.extend_select, "--extend-select"),
        checked(options.ignore, "--ignore")))
    per_file.extend(per_file_ignores(lint.per_file_ignores, where("per_file_ignores")))
    return Selection(enabled_codes(layers), tuple(per_file),
                     severities(lint.severity, where("severity")),
                     _prefix(settings.root, directory))


def _prefix(root: Path, directory: Path) -> str:
    """The migration directory relative to the project root, as a path prefix (the
    directory itself when it lies outside)."""
    try:
        relative = directory.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return ""
    return "" if relative == "." else relative + "/"


def _applied(settings: Settings, directory: Path,
             options: LintOptions) -> frozenset[str] | None:
    """What the target database ``--database-url`` names has applied; None without one.

    Only the flag: ``$DATABASE_URL`` in a CI job is often an empty test database, which
    would make every table new and silence the locking rules."""
    if options.database_url is None:
        return None
    from calctl.migrate.applied import applied_paths
    from calctl.migrate.target import resolve_url

    url = resolve_url(options.database_url, settings.migrate, required=False)
    if url is None:
        return None
    return applied_paths(url, directory, settings.migrate)


def write_baseline(path: Path, directory: Path, report: LintReport,
                   files: list[MigrationFile], *, as_json: bool) -> str:
    """Write the baseline of ``report``'s problems to ``path``; what to print (with
    ``as_json``: the baseline document itself)."""
    from calctl.sql.baseline import make, write

    baseline = make(str(directory), report.problems, files)
    write(path, baseline)
    if as_json:
        from calctl.output import to_json

        return to_json(baseline.to_dict()) + "\n"
    count = len(report.problems)
    return f"wrote {count} finding{'' if count == 1 else 's'} to baseline {path}\n"
