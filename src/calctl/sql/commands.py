"""``migrate order`` and ``migrate lint`` as functions: the API the CLI and the healer call.

Like :mod:`calctl.migrate.commands` for apply/status/verify (and alembic's
``command.py``): settings and a directory in, a document or the command's output
out. Nothing here parses flags or prints; the CLI (``cli/migrate/order.py``,
``lint.py``) renders and writes what comes back.

:func:`cached_output` is the warm path both commands share: discover the files,
hash them, and replay what the command printed last time for the same files,
settings and flags; only on a miss does the command analyse (:func:`order_plan`,
:func:`lint_report`) and render.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.documents import LintReport, MigrationPlan
    from calctl.sql.discovery import MigrationFile


class Discovered:
    """One run's directory: its files and their cache keys, and the parse cache
    directory.

    A plain class, not a dataclass: building a dataclass costs ~0.3 ms at import, on
    every warm run."""

    __slots__ = ("cache", "files", "keys", "path", "settings")

    def __init__(self, path: Path, settings: Settings, files: list[MigrationFile],
                 keys: list[bytes], cache: Path | None) -> None:
        self.path = path
        self.settings = settings
        self.files = files
        self.keys = keys
        self.cache = cache


Produce = Callable[[Discovered], tuple[str, int]]


def cached_output(scope: str, path: Path, settings: Settings, flags: tuple[Any, ...],
                  produce: Produce, *, cache_dir: Callable[[Settings], Path | None],
                  style: str, replay: bool = True) -> tuple[str, int]:
    """The command's output and exit code, replayed when the directory and flags are
    unchanged.

    An unchanged directory (every file's content hash) with the same settings and flags
    gives what it gave last time: a warm CI run reads and hashes the files and nothing
    else. ``cache_dir`` finds (and makes) the parse cache directory, after discovery;
    ``style`` is the output's styling (part of the key). On a miss the analysis is never
    freed nor collected: the process ends after printing (:mod:`calctl.lifecycle`).
    ``replay=False``: always produce, and store nothing (a run with a side effect, such
    as ``migrate lint --write-baseline``).
    """
    from calctl import lifecycle
    from calctl.sql import early
    from calctl.sql.cache import file_keys, load_output, output_key, store_output
    from calctl.sql.discovery import discover_layout

    migrate = settings.migrate
    found = early.discovered(path, migrate)  # by the early child, when it looked here
    if found is not None:
        files, layout, keys = found
    else:
        files, layout = discover_layout(path, globs=migrate.glob, exclude=migrate.exclude,
                                        sort=migrate.sort)
        keys = file_keys(files, migrate)
    cache = cache_dir(settings)
    # the same key the early child computes: it ends at once when this output is cached
    key = output_key(scope, path, files, keys, migrate, flags, style, layout.order)
    stored = load_output(cache, key) if replay else None
    if stored is not None:
        return stored
    lifecycle.end_without_teardown()
    lifecycle.hold(files)
    text, code = produce(Discovered(path, settings, files, keys, cache))
    if replay:
        store_output(cache, key, text, code)
    return text, code


def order_plan(run: Discovered) -> MigrationPlan:
    """The dependency-safe order of ``run``'s files (``migrate order``)."""
    from calctl import lifecycle
    from calctl.sql.runtime import build_plan

    plan, _ = build_plan(run.path, run.settings.migrate, cache_dir=run.cache, files=run.files,
                         keys=run.keys,
                         remember=False)  # what it prints is what is remembered
    lifecycle.hold(plan)
    return plan


def lint_report(run: Discovered, context: dict[str, Any] | None = None) -> LintReport:
    """Every problem of every rule in ``run``'s files (``migrate lint``); ``context``:
    what the rules know of the target (``pg_version``, ``unapplied``)."""
    from calctl import lifecycle
    from calctl.sql.runtime import lint_directory

    report = lint_directory(run.path, run.settings.migrate, cache_dir=run.cache,
                            files=run.files, keys=run.keys, context=context)
    lifecycle.hold(report)
    return report
