"""Where a patch may write: confinement to the project root, and protected paths.

A path is checked twice: as written (no absolute path, no ``..`` leaving the
root, nothing under ``.git``) and after resolving symlinks (the real file must
still be inside the root and outside ``.git`` and the state directory).

Protected paths are the ones verification relies on — tests, CI files, calctl's
config and migrations already recorded as applied — so a patch cannot make its
own verification pass by editing the judge.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from calctl.redact import mask_dsn

# What verification relies on, grouped by why (the group is named in a refusal).
# gitignore syntax (pathspec): a pattern without an inner ``/`` matches at any depth,
# ``dir/`` matches everything under a directory of that name.
PROTECTED_GROUPS: dict[str, tuple[str, ...]] = {
    "tests": (
        "tests/", "test/", "__tests__/", "test_*.py", "*_test.py", "conftest.py",
        "*.test.*", "*.spec.*",
    ),
    "a test runner's or build tool's configuration": (
        "pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml", "tox.ini", "setup.cfg",
        "pyproject.toml", "noxfile.py", "hatch.toml", ".pytest_cache/",
        "Makefile", "GNUmakefile", "makefile", "*.mk", "justfile", "Justfile", ".justfile",
        "Taskfile.yml", "Taskfile.yaml", ".pre-commit-config.yaml",
        "package.json", ".npmrc", ".yarnrc", ".yarnrc.yml",
        "jest.config.*", "vitest.config.*", ".mocharc.*",
    ),
    "code or settings an interpreter or the environment loads at start": (
        "sitecustomize.py", "usercustomize.py", "sitecustomize.*", "usercustomize.*",
        "sitecustomize/", "usercustomize/", "*.pth", "__pycache__/", "*.pyc",
        # installed-distribution metadata: entry points register plugins (pytest11)
        "*.dist-info/", "*.egg-info/", "*.egg-link", "__editable__*",
        ".venv/", "venv/", ".tox/", ".nox/", "site-packages/", "dist-packages/",
        "node_modules/", ".env", ".envrc", ".python-version", ".tool-versions",
        "mise.toml", ".mise.toml",
    ),
    "CI": (
        ".github/", ".ci/", ".gitlab-ci.yml", ".gitlab/", ".circleci/", ".buildkite/",
        ".travis.yml", "azure-pipelines.yml", "Jenkinsfile",
    ),
    "calctl's config": ("calctl.toml",),
}
DEFAULT_PROTECTED: tuple[str, ...] = tuple(
    pattern for group in PROTECTED_GROUPS.values() for pattern in group)
_GROUP_OF = {pattern: group for group, patterns in PROTECTED_GROUPS.items()
             for pattern in patterns}


class PathRefused(Exception):
    """A path an edit may not touch; the message is the reason shown to the user."""


@dataclass(frozen=True)
class AppliedMigrations:
    """Names of migrations the application database records as applied (or why unknown)."""

    names: frozenset[str] = frozenset()
    error: str | None = None


@dataclass
class Confinement:
    """The rules for one project: root, state directory, protected globs."""

    root: Path
    state_dir: Path
    protected: tuple[str, ...] = DEFAULT_PROTECTED
    allow_protected: bool = False
    migrations_dir: str = "migrations"
    applied_migrations: Callable[[], AppliedMigrations] | None = None
    # project files the verify commands name, and modules they run (→ the command)
    config_file: str | None = None  # relative to root, when inside it
    verify_files: dict[str, str] = field(default_factory=dict)
    verify_modules: dict[str, str] = field(default_factory=dict)
    # folders Python imports top-level modules from first (see _by_shadow)
    import_roots: tuple[str, ...] = ("", "src")
    _applied: AppliedMigrations | None = field(default=None, repr=False)
    _compiled: Any = field(default=None, repr=False)
    _links: dict[str, str] | None = field(default=None, repr=False)
    _dir_links: dict[str, str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = self.root.resolve()
        self.state_dir = self.state_dir.resolve()

    def resolve(self, given: str, *, must_not_be_link: bool = False) -> tuple[str, Path]:
        """``(relative posix path of the real file, absolute real path)`` or PathRefused."""
        if not given or "\x00" in given:
            raise PathRefused(f"path {given!r} is empty or holds a NUL byte")
        if given.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", given) or given == "~" \
                or given.startswith("~/"):
            raise PathRefused(f"{given}: absolute paths are refused; give it relative to the "
                              "project root")
        norm = posixpath.normpath(given.replace("\\", "/"))
        if norm == ".." or norm.startswith("../"):
            raise PathRefused(f"{given}: leaves the project root (..)")
        if norm in (".", ""):
            raise PathRefused(f"{given}: names the project root, not a file")
        # case-insensitively: on a case-insensitive filesystem .GIT is .git
        if ".git" in norm.lower().split("/"):
            raise PathRefused(f"{given}: files under .git/ are never patched")
        lexical = self.root / norm
        if must_not_be_link and lexical.is_symlink():
            raise PathRefused(f"{given}: is a symbolic link; calctl does not create, delete or "
                              "rename links")
        try:
            real = lexical.resolve()
        except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
            raise PathRefused(f"{given}: goes through a loop of symbolic links") from None
        try:
            rel = real.relative_to(self.root)
        except ValueError:
            raise PathRefused(f"{given}: resolves through a symbolic link to {real}, outside "
                              "the project root") from None
        if ".git" in (part.lower() for part in rel.parts):
            raise PathRefused(f"{given}: resolves to {rel.as_posix()} under .git/")
        if _within(real, self.state_dir):
            raise PathRefused(f"{given}: is inside calctl's state directory")
        if not rel.parts:
            raise PathRefused(f"{given}: names the project root, not a file")
        return rel.as_posix(), real

    def protection(self, rel: str, given: str | None = None) -> str | None:
        """Why ``rel`` (the real path; ``given`` as the patch wrote it) is protected, or None.

        Both names count: a patch may not edit ``pytest.ini`` through a link named
        otherwise, nor the file a protected name links to."""
        if self.allow_protected:
            return None
        names = [rel]
        if given is not None:
            lexical = posixpath.normpath(given.replace("\\", "/"))
            if lexical != rel:
                names.append(lexical)
        for name in names:
            reason = (self._by_pattern(name) or self._by_verify(name) or self._by_venv(name)
                      or self._by_shadow(name))
            if reason:
                return reason
        if rel in self._linked_targets():
            link = self._linked_targets()[rel]
            return f"{rel}: protected (the protected path {link} is a symbolic link to it)"
        for prefix, link in self._linked_dirs().items():
            if rel.startswith(prefix + "/"):
                return f"{rel}: protected (the protected directory {link} links to {prefix})"
        return self._by_migration(rel)

    def _by_pattern(self, rel: str) -> str | None:
        if self.config_file and rel.lower() == self.config_file.lower():
            return f"{rel}: protected (calctl's config file in use)"
        # Matched case-insensitively (patterns and path lowered): on a case-insensitive
        # filesystem PYTEST.INI is pytest.ini, and on Linux refusing it costs nothing.
        index = self._spec().check_file(rel.lower()).index
        if index is None:
            return None
        pattern = self._folded()[index][1]
        group = _GROUP_OF.get(pattern, "[patch] protect")
        return f"{rel}: protected (matches {pattern!r}: {group})"

    def _by_verify(self, rel: str) -> str | None:
        folded = rel.lower()
        command = next((c for f, c in self.verify_files.items() if f.lower() == folded), None)
        if command is not None:
            return f"{rel}: protected (the verify command {command!r} names it)"
        top = rel.split("/", 1)[0]
        module = top[:-3] if top.endswith(".py") else top
        command = self.verify_modules.get(module)
        if command is not None and not (self.root / top).exists():
            return (f"{rel}: protected (it would shadow the module {module!r} that the verify "
                    f"command {command!r} runs)")
        return None

    def _by_shadow(self, rel: str) -> str | None:
        """A new top-level module or package that would be imported instead of one the
        verify command (its test runner, a plugin, a dependency) imports.

        Python puts the project root (``python -m``, pytest's rootdir insertion) or
        ``src/`` first on its path, so a new ``iniconfig.py`` there is run by pytest
        instead of the real one. Refused: a name calctl's own interpreter can import
        (looked up, not imported) or a standard-library name — unless the project has
        it already (its own package, or a module it vendors)."""
        parts = rel.split("/")
        for base in self.import_roots:
            depth = len(base.split("/")) if base else 0
            if len(parts) <= depth or "/".join(parts[:depth]) != base:
                continue
            top = parts[depth]
            if not parts[-1].endswith(_MODULE_SUFFIXES):
                continue  # data files run nothing (and a folder of them shadows nothing)
            module = _module_name(top, package=len(parts) > depth + 1)
            if module is None or not _importable(module):
                continue
            here = self.root.joinpath(*parts[:depth]) if depth else self.root
            if (here / top).exists() or any(here.glob(f"{module}.*")) \
                    or (here / module).exists():
                continue
            where = f"{base}/" if base else "the project root"
            return (f"{rel}: protected (a new module {module!r} in {where} would shadow the "
                    "installed or standard-library module of that name, which verification "
                    "may import)")
        return None

    def _by_venv(self, rel: str) -> str | None:
        parts = rel.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            if (self.root.joinpath(*parts[:depth]) / "pyvenv.cfg").is_file():
                where = "/".join(parts[:depth])
                return f"{rel}: protected (inside the virtual environment {where}/)"
        return None

    def _by_migration(self, rel: str) -> str | None:
        migrations = posixpath.normpath(self.migrations_dir)
        if rel.lower().startswith(migrations.lower() + "/") \
                and self.applied_migrations is not None:
            if self._applied is None:
                self._applied = self.applied_migrations()
            applied = self._applied
            inside = rel[len(migrations) + 1:]
            if applied.error:
                return (f"{rel}: cannot tell whether this migration was applied "
                        f"({applied.error}); migration files are treated as applied")
            mine = {rel.lower(), inside.lower(), posixpath.basename(rel).lower()}
            if mine & {name.lower() for name in applied.names}:
                return f"{rel}: migration already recorded as applied in the database"
        return None

    def _positive(self) -> list[str]:
        # A "!pattern" in [patch] protect would un-protect in gitignore syntax; protect
        # only ever adds, so negations are left out.
        return [p for p in self.protected if p.strip() and not p.startswith("!")]

    def _folded(self) -> list[tuple[str, str]]:
        """(lowered pattern, the first pattern as written that lowers to it)."""
        seen: dict[str, str] = {}
        for pattern in self._positive():
            seen.setdefault(pattern.lower(), pattern)
        return list(seen.items())

    def _spec(self) -> Any:
        if self._compiled is None:
            from calctl.globs import gitignore_spec  # pathspec: only when a patch is checked

            self._compiled = gitignore_spec([low for low, _ in self._folded()])
        return self._compiled

    def _linked_targets(self) -> dict[str, str]:
        if self._links is None:
            self._scan_links()
        assert self._links is not None
        return self._links

    def _linked_dirs(self) -> dict[str, str]:
        if self._dir_links is None:
            self._scan_links()
        assert self._dir_links is not None
        return self._dir_links

    def _scan_links(self) -> None:
        """Symbolic links with a protected name, and where they point inside the root.

        One pass over the tree with scandir (the link test costs no extra system call),
        done once per command and only when a patch touches an unprotected path."""
        files: dict[str, str] = {}
        folders: dict[str, str] = {}
        skip = {".git", "node_modules", ".venv", "venv", ".tox", ".nox", "__pycache__"}
        pending = [self.root]
        while pending:
            here = pending.pop()
            try:
                entries = list(os.scandir(here))
            except OSError:
                continue
            for item in entries:
                path = Path(item.path)
                if not item.is_symlink():
                    if item.is_dir(follow_symlinks=False) and item.name not in skip \
                            and path != self.state_dir:
                        pending.append(path)
                    continue
                link = path.relative_to(self.root).as_posix()
                try:
                    target = path.resolve().relative_to(self.root).as_posix()
                except (ValueError, OSError, RuntimeError):
                    continue
                if path.is_dir():
                    # a pattern covering anything inside the link covers its target
                    if self._by_pattern(f"{link}/{_PROBE}"):
                        folders[target] = link
                elif self._by_pattern(link) or self._by_verify(link):
                    files[target] = link
        self._links, self._dir_links = files, folders


# A name no pattern spells out: matches only patterns that cover a whole directory.
_PROBE = "calctl-probe-0c1f9a"

_MODULE_SUFFIXES = (".py", ".pyc", ".pyw", ".so", ".pyd")


def _within(path: Path, folder: Path) -> bool:
    """``path`` is ``folder`` or under it, letter case ignored."""
    p, f = str(path).casefold(), str(folder).casefold().rstrip("/")
    return p == f or p.startswith(f + "/")


def _module_name(component: str, *, package: bool) -> str | None:
    """The module a top-level path component would be imported as, or None."""
    if package:
        name = component
    else:
        suffix = next((s for s in _MODULE_SUFFIXES if component.endswith(s)), None)
        if suffix is None:
            return None
        name = component.split(".", 1)[0]  # also name.cpython-312-x86_64-linux-gnu.so
    return name if name.isidentifier() else None


def _importable(module: str) -> bool:
    import sys

    if module in sys.stdlib_module_names or module in sys.builtin_module_names:
        return True
    import importlib.util

    try:  # a top-level name: found on sys.path, nothing imported
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def verify_targets(commands: Iterable[Sequence[str]], root: Path,
                   ) -> tuple[dict[str, str], dict[str, str]]:
    """Files the verify commands name (a script, ``-c pytest.ini``) and modules they run
    with ``python -m``: a patch may not rewrite the one nor shadow the other."""
    files: dict[str, str] = {}
    modules: dict[str, str] = {}
    root = root.resolve()
    for argv in commands:
        line = mask_dsn(" ".join(argv))  # it is shown in refusals, events and rows
        for i, token in enumerate(argv):
            if i and argv[i - 1] == "-m" and re.fullmatch(r"[\w.]+", token):
                modules.setdefault(token.split(".")[0], line)
            for candidate in _candidates(token):
                rel = _inside(root, candidate)
                if rel:
                    files.setdefault(rel, line)
    return files, modules


def import_roots(commands: Iterable[Sequence[str]], root: Path) -> tuple[str, ...]:
    """Where Python looks first for a project's top-level modules: the root (``python -m``,
    pytest's rootdir insertion), the src layout, and folders of the project a verify
    command puts on ``PYTHONPATH`` (``env PYTHONPATH=lib pytest``)."""
    roots = ["", "src"]
    root = root.resolve()
    for argv in commands:
        for token in argv:
            for word in _candidates(token):
                if not word.startswith("PYTHONPATH="):
                    continue
                for entry in word.split("=", 1)[1].split(":"):
                    try:
                        rel = (root / entry).resolve().relative_to(root).as_posix()
                    except (ValueError, OSError, RuntimeError):
                        continue
                    roots.append("" if rel == "." else rel)
    return tuple(dict.fromkeys(roots))


def _candidates(token: str) -> list[str]:
    out = [token]
    if token.startswith("-") and "=" in token:
        out.append(token.split("=", 1)[1])
    elif token.startswith("-") and len(token) > 2 and not token.startswith("--"):
        out.append(token[2:])  # -cpytest.ini
    if " " in token:  # sh -c "…": the words of the inner command line
        import shlex

        try:
            out.extend(shlex.split(token))
        except ValueError:
            out.extend(token.split())
    return out


def _inside(root: Path, candidate: str) -> str | None:
    if not candidate or "\x00" in candidate or candidate.startswith("-"):
        return None
    try:
        path = (root / candidate).resolve()
        rel = path.relative_to(root)
    except (ValueError, OSError, RuntimeError):
        return None
    return rel.as_posix() if rel.parts and path.is_file() else None


def protected_patterns(extra: Iterable[str], config_rel: str | None) -> tuple[str, ...]:
    """Default globs, the config file actually in use, and the project's own additions."""
    patterns = list(DEFAULT_PROTECTED)
    if config_rel:  # a literal path, anchored at the root
        patterns.append("/" + "".join("\\" + c if c in "*?[\\" else c for c in config_rel))
    patterns.extend(extra)
    return tuple(dict.fromkeys(patterns))
