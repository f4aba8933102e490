"""Helpers for the patch tests: a project's files as bytes and modes, patch documents."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from support import patch_doc, write  # noqa: F401  (the patch tests import them from here)

STATE = ".calctl"


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file under ``root`` (state dir and .git excluded): bytes and mode."""
    out: dict[str, tuple[bytes, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (STATE, ".git")]
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                out[path.relative_to(root).as_posix()] = (os.readlink(path).encode(), -1)
                continue
            st = path.stat()
            if stat.S_ISREG(st.st_mode):
                out[path.relative_to(root).as_posix()] = (path.read_bytes(),
                                                          stat.S_IMODE(st.st_mode))
    return out


def dirs(root: Path) -> set[str]:
    found = set()
    for dirpath, dirnames, _ in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in (STATE, ".git")]
        for d in dirnames:
            found.add((Path(dirpath) / d).relative_to(root).as_posix())
    return found


def temp_files(root: Path) -> list[str]:
    """calctl temp files anywhere under root, state directory included."""
    return [p.relative_to(root).as_posix() for p in root.rglob("*.calctl-*.tmp")] + [
        p.relative_to(root).as_posix() for p in root.rglob(".*.tmp")]


def calctl_argv() -> list[str]:
    """The installed console script (as the root conftest's ``calctl`` fixture runs it)."""
    import shutil
    import sys

    script = Path(sys.executable).parent / "calctl"
    if script.exists():
        return [str(script)]
    found = shutil.which("calctl")
    return [found] if found else [sys.executable, "-m", "calctl"]


def cli_env() -> dict[str, str]:
    """The environment ``run_calctl`` gives the CLI: no CALCTL_* or DATABASE_URL leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    env.pop("DATABASE_URL", None)
    return env


def read_record(path: Path) -> Any:
    """A journal or snapshot manifest calctl wrote: JSON after the seal's header line."""
    header, _, body = path.read_bytes().partition(b"\n")
    assert header.startswith(b"calctl-sealed v1 "), header[:40]
    return json.loads(body)
