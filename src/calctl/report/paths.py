"""Paths in a report: relative to the project root, ``~`` for the home directory,
``<site-packages>/pkg/…`` for installed packages, ``<stdlib>/…`` for the standard
library, ``<python>/…`` for the rest of a Python installation. Other system paths
(``/etc/…``) stay: they say something and belong to nobody.

:class:`PathScrubber` rewrites paths wherever they appear in text, and classifies a
frame's path (in the project or not) for choosing the location.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# any directory of installed packages, and the Python it belongs to
_PACKAGES = re.compile(r"(?:[^\s\"'()\[\]<>,:=]*/)?(?:site|dist)-packages/")
_STDLIB = re.compile(r"(?:[^\s\"'()\[\]<>,:=]*/)?lib/python3\.\d+t?/")
# prefixes too general to stand for a Python installation
_GENERAL = frozenset({"/", "/usr", "/usr/local", "/opt", "/home", "/root"})
OUTSIDE = ("<site-packages>/", "<stdlib>/", "<python>/", "node_modules/", "<frozen ", "node:",
           "internal/")


def _variants(path: Path) -> list[str]:
    """``path`` as given, absolute and with links resolved (longest first)."""
    seen = {str(path), os.path.abspath(path)}
    with contextlib.suppress(OSError):
        seen.add(str(path.resolve()))
    return sorted((s.rstrip("/") for s in seen if s not in ("", "/")), key=len, reverse=True)


@dataclass
class PathScrubber:
    """Rewrites the paths of one project's reports."""

    root: Path
    home: Path | None = None

    def __post_init__(self) -> None:
        home = self.home if self.home is not None else Path(os.path.expanduser("~"))
        self._root = _variants(self.root)
        self._home = [h for h in _variants(home) if h not in ("/", "/usr")] if str(home) else []
        pythons = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                   sys.executable, getattr(sys, "_base_executable", "")}
        for key in ("stdlib", "platstdlib"):
            value = sysconfig.get_paths().get(key)
            if value:
                pythons.add(value)
        self._python = sorted((p.rstrip("/") for p in pythons
                               if p and p.rstrip("/") not in _GENERAL), key=len, reverse=True)
        alternatives = [re.escape(p) for p in (*self._root, *self._home, *self._python)]
        self._prefix = re.compile(
            "(" + "|".join(alternatives) + r")(?:(?P<slash>/)(?=[^\s\"'/])|"
            r"(?=/|$|[\s\"'()\[\]<>,:;]))") \
            if alternatives else None

    def scrub(self, text: str) -> str:
        """``text`` with every path rewritten."""
        if not text or "/" not in text:
            return text
        text = _PACKAGES.sub("<site-packages>/", text)
        text = _STDLIB.sub("<stdlib>/", text)
        if self._prefix is not None:
            text = self._prefix.sub(self._replace, text)
        return text

    def _replace(self, match: re.Match[str]) -> str:
        found, slash = match.group(1), match.group("slash") or ""
        if found in self._root:
            return "" if slash else "."
        if found in self._home:
            return "~" + slash
        return "<python>" + slash

    def relative(self, path: str) -> str | None:
        """``path`` relative to the project root (posix), or None when it is outside
        (or names an installed package, the standard library, node_modules)."""
        if not path or path.startswith("<") or path.startswith("node:"):
            return None
        path = path.removeprefix("file://")
        given = Path(path)
        if not given.is_absolute():
            rel = PurePosixPath(os.path.normpath(path))
            if str(rel).startswith("..") or rel.is_absolute():
                return None
            return _inside(str(rel))
        for root in self._root:
            if path == root:
                return None
            if path.startswith(root + "/"):
                rel_text = os.path.normpath(path[len(root) + 1:])
                if rel_text.startswith(".."):
                    return None
                return _inside(rel_text)
        return None


def _inside(rel: str) -> str | None:
    parts = PurePosixPath(rel).parts
    if any(p in ("site-packages", "dist-packages", "node_modules", ".venv", "venv", ".tox")
           for p in parts):
        return None
    return PurePosixPath(rel).as_posix()
