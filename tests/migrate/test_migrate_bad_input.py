"""Bad input to migrate apply/status: one clear line, exit 4 or 2, the password never shown."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgmig import cli_env, write

SECRET = "s3cr3t-Pa55word"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def password_server() -> Iterator[int]:
    """A real TCP peer speaking the PostgreSQL protocol that rejects every password.

    It asks for a cleartext password, reads it, and answers with the server's
    own error for a wrong one (SQLSTATE 28P01), as PostgreSQL with password auth does.
    """
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def recv_exact(conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                while True:
                    length, code = struct.unpack("!ii", recv_exact(conn, 8))
                    if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not here
                        conn.sendall(b"N")
                        continue
                    recv_exact(conn, length - 8)  # the startup packet's parameters
                    break
                conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # cleartext password, please
                kind = recv_exact(conn, 1)
                (length,) = struct.unpack("!i", recv_exact(conn, 4))
                recv_exact(conn, length - 4)
                assert kind == b"p"
                fields = (b"SFATAL\0VFATAL\0C28P01\0"
                          b'Mpassword authentication failed for user "app"\0\0')
                conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)
            except (ConnectionError, OSError, AssertionError):
                pass

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def _one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("calctl: error:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert SECRET not in stderr
    return lines[0]


@pytest.mark.parametrize("command", ["apply", "status"])
def test_unreachable_server_is_exit_4(calctl: Any, project: Path, command: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    url = f"postgresql://app:{SECRET}@127.0.0.1:{_free_port()}/app?connect_timeout=3"
    result = calctl("migrate", command, "--database-url", url, cwd=project, env=cli_env())
    assert result.returncode == 4
    line = _one_line_error(result.stderr)
    assert f"127.0.0.1:{url.split(':')[3].split('/')[0]}/app" in line


def test_wrong_password_is_exit_4_and_masked(calctl: Any, project: Path,
                                             password_server: int) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    url = f"postgresql://app:{SECRET}@127.0.0.1:{password_server}/app?sslmode=disable"
    result = calctl("migrate", "apply", "--json", cwd=project, env=cli_env(url))
    assert result.returncode == 4
    line = _one_line_error(result.stderr)
    assert "password authentication failed" in line
    assert SECRET not in result.stdout
    assert result.json()["kind"] == "error"
    assert result.json()["code"] == "database-unavailable"


def test_missing_database_is_exit_4(calctl: Any, project: Path, pg_server_url: str) -> None:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(pg_server_url)
    info["dbname"] = "no_such_database_here"
    info["password"] = SECRET
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    result = calctl("migrate", "apply", cwd=project, env=cli_env(make_conninfo("", **info)))
    assert result.returncode == 4
    line = _one_line_error(result.stderr)
    assert "no_such_database_here" in line and "does not exist" in line


def test_non_utf8_file_is_exit_2_naming_file_and_line(calctl: Any, project: Path,
                                                      pg_url: str) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    write(project, "002_latin1.sql", "-- ok\n-- caf\xe9 in Latin-1\n".encode("latin-1"))
    result = calctl("migrate", "apply", cwd=project, env=cli_env(pg_url))
    assert result.returncode == 2
    line = _one_line_error(result.stderr)
    assert "002_latin1.sql:2" in line and "UTF-8" in line
    from pgmig import exists

    assert not exists(pg_url, "a"), "nothing is applied when a file cannot be read"


def test_no_database_url_is_a_usage_error(calctl: Any, project: Path) -> None:
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    result = calctl("migrate", "apply", cwd=project, env=cli_env())
    assert result.returncode == 2
    assert "DATABASE_URL" in _one_line_error(result.stderr)


def test_database_url_env_setting_names_the_variable(calctl: Any, project: Path,
                                                     pg_url: str) -> None:
    (project / "calctl.toml").write_text(
        '[migrate]\ndir = "migrations"\ndatabase_url_env = "APP_DB"\n', encoding="utf-8")
    write(project, "001_a.sql", "CREATE TABLE a (id int);\n")
    result = calctl("migrate", "apply", cwd=project, env={**cli_env(), "APP_DB": pg_url})
    assert result.returncode == 0, result.stderr


def test_missing_directory_is_exit_2(calctl: Any, project: Path, pg_url: str) -> None:
    result = calctl("migrate", "apply", str(project / "nope"), cwd=project, env=cli_env(pg_url))
    assert result.returncode == 2
    assert "does not exist" in _one_line_error(result.stderr)
