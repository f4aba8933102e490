"""What a heal's patch must pass before it is kept.

The patch engine runs the commands (``[patch] verify`` and ``[heal] verify``) and then
these in-process checks, all in its ``verifying`` phase (a crash there is rolled back
by recovery, like a crash in a command):

1. the check that failed, run again (the guard's ``recheck``, with a cursor-free
   context so a log check's position does not move);
2. when the patch touches the migration directory: ``migrate verify --order
   filename`` — every file applied in filename order on a throwaway database (a
   scratch database on the check's server, else an embedded PostgreSQL).

None of them is taken from the patch or the diagnosis, so a patch cannot weaken
the verification that judges it; and the patch engine refuses patches to the files
the commands run (protected paths).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.documents import Patch, VerifyRun
from calctl.output import plural

if TYPE_CHECKING:
    from calctl.config import Settings
    from calctl.config.checks import CheckSpec
    from calctl.guard.model import Outcome

TAIL = 4000


def commands(settings: Settings) -> tuple[str, ...]:
    """``[patch] verify`` then ``[heal] verify``, each once."""
    seen: list[str] = []
    for command in (*settings.patch.verify, *settings.heal.verify):
        if command not in seen:
            seen.append(command)
    return tuple(seen)


def migration_dir(settings: Settings, spec: CheckSpec | None) -> Path:
    raw = str((spec.options.get("dir") if spec is not None and spec.type == "migrations"
               else "") or settings.migrate.dir)
    path = Path(raw)
    return path if path.is_absolute() else settings.root / path


def touches(patch: Patch, directory: Path, root: Path) -> bool:
    """Whether any edit of ``patch`` (a rename's either end) lies in ``directory``."""
    try:
        prefix = directory.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return False
    prefix = "" if prefix == "." else prefix + "/"
    paths = [p for e in patch.edits for p in (e.path, e.to) if p]
    return any(p.startswith(prefix) for p in paths)


def recheck_run(spec: CheckSpec, recheck: Callable[[CheckSpec], Outcome]) -> VerifyRun:
    """The failing check again, as a verification run (its failure never raises)."""
    start = time.monotonic()
    label = f"check {spec.name} ({spec.type})"
    from calctl.guard.once import scrub

    try:
        outcome = scrub(spec, recheck(spec))  # stored and shown: secrets masked as the guard's
    except Exception as exc:  # a check that crashes has failed, it does not end the heal
        return VerifyRun(label, 1, False, _since(start), f"the check crashed: {exc!r}"[:TAIL])
    text = "healthy" if outcome.ok else (outcome.error or "unhealthy")
    if outcome.file:
        text += f" ({outcome.file}{f':{outcome.line}' if outcome.line else ''})"
    return VerifyRun(label, 0 if outcome.ok else 1, False, _since(start), text[:TAIL])


def migrate_verify_run(settings: Settings, directory: Path, server_url: str | None) -> VerifyRun:
    """``migrate verify --order filename`` in-process, as a verification run."""
    from calctl.errors import CalctlError
    from calctl.migrate.commands import Source, verify_command

    start = time.monotonic()
    label = f"calctl migrate verify --order filename {_shown(settings, directory)}"
    try:
        result = verify_command(settings, Source(directory.absolute(), "filename"), server_url)
    except CalctlError as exc:
        return VerifyRun(label, int(exc.exit_code), False, _since(start),
                         (exc.message + (f" ({exc.hint})" if exc.hint else ""))[:TAIL])
    document = result.document
    if result.exit_code:
        error = str(getattr(document, "error", "")) or "a migration failed"
        where = getattr(document, "file", None)
        line = getattr(document, "line", None)
        text = f"{where}:{line}: {error}" if where and line else error
        if server_url:
            from calctl.redact import mask_secrets

            text = mask_secrets(text, server_url)
        return VerifyRun(label, int(result.exit_code), False, _since(start), text[:TAIL])
    steps = len(getattr(document, "steps", []) or [])
    return VerifyRun(label, 0, False, _since(start),
                     f"{plural(steps, 'file')} applied in filename order on "
                     f"{getattr(document, 'database', 'a throwaway database')}")


def _shown(settings: Settings, directory: Path) -> str:
    try:
        return directory.resolve().relative_to(settings.root.resolve()).as_posix()
    except ValueError:
        return str(directory)


def _since(start: float) -> float:
    return round(time.monotonic() - start, 3)
