"""squawk's configuration file, ``.squawk.toml``, read so a team switching keeps it.

squawk looks for the file from the working directory upward; calctl looks from the
migration directory up to the project root. What it reads:

* ``excluded_rules`` (squawk's rule names): ignored, as ``[migrate.lint] ignore``
  would (a name calctl has no twin of is skipped);
* ``excluded_paths`` (globs): the rules with a squawk twin are ignored in those files;
* ``pg_version`` (``"13.0"``): the default of ``--pg-version``.

Other keys (``assume_in_transaction``, ``upload_to_github`` …) are squawk's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from calctl.errors import UsageError

FILENAME = ".squawk.toml"


@dataclass(frozen=True)
class SquawkConfig:
    path: Path
    excluded_rules: tuple[str, ...] = ()
    excluded_paths: tuple[str, ...] = ()
    pg_version: int | None = None
    text: str = ""  # as read (part of the output cache's key)


def find(directory: Path, root: Path) -> Path | None:
    """The nearest ``.squawk.toml`` from ``directory`` up to ``root`` (``root`` alone
    when the directory is not inside it)."""
    try:
        here, top = directory.resolve(), root.resolve()
    except (OSError, RuntimeError):  # a symlink loop: discovery reports it
        return None
    candidates = [here, *here.parents] if here.is_relative_to(top) else [top]
    for folder in candidates:
        candidate = folder / FILENAME
        if candidate.is_file():
            return candidate
        if folder == top:
            break
    return None


def read(path: Path) -> SquawkConfig:
    """The parts of ``path`` calctl honours; a file that is not squawk's TOML is exit 2."""
    import tomllib

    from calctl.config import pg_major

    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{path}: cannot read squawk's config: {exc}",
                         hint="Fix the file, or remove it if squawk no longer reads it.",
                         code="squawk-config") from None

    def strings(key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise UsageError(f"{path}: {key} must be a list of strings, not {value!r}",
                             code="squawk-config")
        return tuple(value)

    version = pg_major(data.get("pg_version"), f"{path}: pg_version")  # ConfigError: exit 2
    return SquawkConfig(path, strings("excluded_rules"), strings("excluded_paths"), version,
                        text)
