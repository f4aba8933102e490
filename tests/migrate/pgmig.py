"""Helpers for the migrate apply/status/verify tests: files, queries, real CLI processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def write(project: Path, name: str, text: str | bytes) -> Path:
    path = project / "migrations" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def query(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return list(conn.execute(sql, params or None).fetchall())


def exists(url: str, table: str) -> bool:
    return bool(query(url, "SELECT to_regclass(%s) IS NOT NULL", (table,))[0][0])


def history(url: str) -> list[str]:
    if not exists(url, "calctl_migrations"):
        return []
    return [r[0] for r in query(
        url, "SELECT path FROM calctl_migrations WHERE success ORDER BY execution_order")]


def cli_env(url: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    env.pop("DATABASE_URL", None)
    env["COLUMNS"] = "200"
    if url:
        env["DATABASE_URL"] = url
    return env


def calctl_executable() -> list[str]:
    script = Path(sys.executable).parent / "calctl"
    if script.exists():
        return [str(script)]
    found = shutil.which("calctl")
    return [found] if found else [sys.executable, "-m", "calctl"]


def wait_for(predicate: Any, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def spawn(*args: str, cwd: Path, url: str) -> subprocess.Popen[str]:
    """Start ``calctl`` as a real background process (for concurrency and kill tests)."""
    return subprocess.Popen([*calctl_executable(), *args], cwd=cwd, env=cli_env(url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


