"""Starting a directory's analysis before the command line is parsed.

A cold ``calctl migrate order`` spends its first ~0.1 s on one core: starting
Python, importing Typer and calctl, resolving settings, reading the files; the
other core would idle until the analysis forks. So the console script, before it
imports any of that, looks at its arguments (:func:`start`): when they plainly run
``migrate order`` or ``migrate lint``, it forks a child that works out the
settings and the directory the same way the command will, reads the files, and
analyses the ones the parse cache lacks.

The two processes share that work without splitting it in advance (a fixed split
leaves one idle whenever the other is slowed, by a busy machine or by slower
files): both walk the same list (the missing files ordered by cache key,
:func:`common_order`), the child from the front and the parent from the back,
and each marks in shared memory how far it has come (:class:`Progress`); they
stop where they meet.

Nothing the child sends is trusted by position: results travel as
``(cache key, analysis)`` pairs, and the key is a hash of the file's text and of
every setting the analysis depends on. Once the command has parsed its line
properly, :func:`claim` hands the child to :mod:`calctl.sql.runtime`, which uses only
the pairs whose keys it computed itself and analyses anything else. A guess that
turned out wrong costs time, never a wrong answer. The child writes nothing until
the parent has checked its results and sends it the cache directory with the
parent's own analyses; it then writes the whole parse cache while the parent
resolves and prints. It first checks the key of the command's replayed output and ends
at once when that is cached (a warm run needs no analysis); it dies with the command
when the command never needs it (a replayed output, an error); ``CALCTL_SERIAL=1``
starts none.

Three pipes join the processes, each message length-prefixed (:mod:`calctl.sql.pipes`):

* *found* (child → parent, once, before the child analyses): the files it read, their
  layout and cache keys, with the directory and settings it guessed
  (:func:`share`). The command takes them instead of reading and hashing every file
  again when it resolves the same directory and settings (:func:`discovered`); else
  it discovers them itself.
* *results* (child → parent): its (key, analysis) pairs, marshalled in chunks while it
  analyses (:class:`~calctl.sql.pipes.Packed`); later one byte once the parse cache is
  written, so the parent does not wait for the child's end (the system freeing its
  memory, ~30 ms).
* *control* (parent → child): the cache directory and the parent's own pairs, or
  nothing (write nothing).

This module is imported before everything else, so it imports nothing beyond ``os``
(and :mod:`calctl.sql.pipes`, which imports only ``os``) until it has forked (not even
``typing``: ~12 ms before the child could start).
"""

from __future__ import annotations

import os

from calctl.sql.pipes import Packed, messages, receive, send, unpacked

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from calctl.config import MigrateSettings
    from calctl.sql.cache import ParseCache
    from calctl.sql.discovery import MigrationFile
    from calctl.sql.facts import FileAnalysis
    from calctl.sql.layout import Layout

# Below this many files to parse, a second process costs more than it saves (the
# analysis in calctl.sql.runtime uses the same bound; here so the child need not import it).
PARALLEL_THRESHOLD = 400


def usable_cpus() -> int:
    """The CPUs this process may run on (``taskset``, cgroup cpusets), not the machine's."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def parallel_cpus() -> int:
    """How many processes a cold analysis should run in: the CPUs this process may run on
    that no other task is running on now, itself counted (at least 1).

    Beside a busy process a second analysing process gets no core of its own: it only
    time-slices with the first, and the split costs ~15 % more instructions (and more
    cache refills) for no gain — measured beside a spinning process, one process used
    ~25 % less CPU and wall time than two. So, like ``make -l``, the analysis forks
    only onto CPUs that are idle: the system's runnable tasks are /proc/loadavg's fourth
    field (this process among them), counted against the machine's CPUs.
    ``CALCTL_SERIAL=1`` always runs one process, ``CALCTL_SERIAL=0`` every usable CPU
    whatever the load (the tests of the parallel path); a system without /proc/loadavg
    counts every usable CPU as idle."""
    mode = os.environ.get("CALCTL_SERIAL", "")
    if mode not in ("", "0"):
        return 1
    cpus = usable_cpus()
    if mode == "0" or cpus < 2:
        return cpus
    try:
        with open("/proc/loadavg", "rb") as loadavg:
            running = int(loadavg.read().split()[3].split(b"/")[0])
    except (OSError, ValueError, IndexError):
        return cpus
    # the count is system-wide: the machine's idle CPUs bound the usable ones
    idle = max(os.cpu_count() or cpus, cpus) - (running - 1)
    return max(1, min(cpus, idle))


def common_order(keys: list[bytes]) -> list[int]:
    """The indexes of ``keys`` in the order both processes walk them: by key, so that
    the same files give the same list whatever order each process found them in."""
    return sorted(range(len(keys)), key=keys.__getitem__)


class Progress:
    """How far each process has come along the common list, in memory both share.

    The child takes items from the front and the parent from the back; each records
    an item as taken before it checks whether the other took it already. Two
    processes that take the same item both analyse it (the parent keeps its own);
    if each sees the other's mark on the same item and both leave it, the parent
    analyses it with whatever else the child did not send. So the marks only decide
    who does what, never whether something is done.
    """

    def __init__(self) -> None:
        import mmap

        # anonymous and shared: the forked child writes the same memory
        self._slots = memoryview(mmap.mmap(-1, 16)).cast("q")
        self._slots[0] = 0          # items the child has taken: 0 … n-1
        self._slots[1] = 1 << 62    # the lowest item the parent has taken

    def child_takes(self, item: int) -> bool:
        """Mark ``item`` taken by the child; False when the parent had it already."""
        self._slots[0] = item + 1
        return self._slots[1] > item

    def parent_takes(self, item: int) -> bool:
        """Mark ``item`` taken by the parent; False when the child had it already."""
        self._slots[1] = item
        return self._slots[0] <= item


class Child:
    """A running early analysis: its pid, the pipe its results arrive on, the pipe the
    parent uses to tell it where (or whether) to save them, and the shared progress."""

    def __init__(self, pid: int, results: int, control: int, progress: Progress,
                 found: int = -1) -> None:
        self.pid = pid
        self.results = results
        self.control: int | None = control
        self.progress = progress
        self.found = found  # the pipe the child's discovery arrives on (-1: read, or none)
        self.reaped = False
        self.told = False  # sent a cache directory: it is writing the cache
        # the results as they arrive (take, collect)
        self._buffer = bytearray()
        self._got: dict[bytes, FileAnalysis] = {}
        self._ended = False  # its last message arrived (or it ended first)
        self._bad = False  # a message that is not analyses, or it ended first
        self._nonblocking = False

    def discovery(self) -> tuple[Any, ...] | None:
        """What the child found before analysing (:func:`share`), once; None when it sent
        nothing (too few files, an error) or ended."""
        import marshal

        found, self.found = self.found, -1
        if found < 0:
            return None
        try:
            data = receive(found)
            return marshal.loads(data) if data else None
        except (EOFError, ValueError, TypeError, OSError):
            return None
        finally:
            os.close(found)

    def drop_discovery(self) -> None:
        """Close the discovery pipe unread: a child blocked writing it goes on."""
        found, self.found = self.found, -1
        if found >= 0:
            os.close(found)

    def take(self) -> None:
        """Take in, without waiting, the results that have arrived: decoded here while this
        process still analyses, not after the two have met (~30 ms per 1,000 files)."""
        if self._ended or self.results < 0:
            return
        if not self._nonblocking:
            os.set_blocking(self.results, False)
            self._nonblocking = True
        try:
            data = os.read(self.results, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self._arrived(data)

    def collect(self) -> dict[bytes, FileAnalysis]:
        """Wait for the rest of the child's results: cache key → analysis ({} if it
        failed). The pipe stays open: the child says on it when it has written the cache."""
        if self.results >= 0 and self._nonblocking:
            os.set_blocking(self.results, True)
            self._nonblocking = False
        while not self._ended:
            try:
                data = os.read(self.results, 1 << 20) if self.results >= 0 else b""
            except OSError:
                data = b""
            self._arrived(data)
        return {} if self._bad else self._got

    def _arrived(self, data: bytes) -> None:
        """Decode the whole messages received so far (:meth:`Packed.finish` ends them with
        an empty one); no data: the child ended before that."""
        import marshal

        from calctl.sql.facts import from_plain

        if not data:
            self._ended = self._bad = True
            return
        self._buffer += data
        for chunk in messages(self._buffer):
            if not chunk:
                self._ended = True
                break
            try:
                for key, plain in marshal.loads(chunk):
                    self._got[key] = from_plain(plain)
            except (EOFError, ValueError, TypeError):  # not analyses: never expected
                self._bad = True

    def save_to(self, cache_dir: str | None, mine: bytes = b"") -> None:
        """Let the child write the parse cache at ``cache_dir`` — its own analyses and
        ``mine``, the parent's (key, plain analysis) pairs (:meth:`Packed.packed`) — and end;
        None: write nothing."""
        import contextlib

        control, self.control = self.control, None
        if control is None:
            return
        with contextlib.suppress(OSError), os.fdopen(control, "wb") as pipe:
            if cache_dir:
                self.told = True
                pipe.write(os.fsencode(cache_dir) + b"\0" + mine)

    def wait(self) -> None:
        """Wait until the child has written the cache (when told to) and ended. A console
        run that ends without teardown waits only for the writing: the child's last
        moments — the system freeing its memory, ~30 ms on a cold 2,000-file run —
        overlap the rest of the command, and the system reaps it."""
        import contextlib

        from calctl import lifecycle

        self.save_to(None)
        if self.reaped:
            return
        self.reaped = True
        results, self.results = self.results, -1
        if results >= 0:
            if not self._buffer:  # (the word may have come with its last results)
                with contextlib.suppress(OSError):
                    os.set_blocking(results, True)
                    os.read(results, 1)  # its word that the cache is written, or EOF: ended
            os.close(results)
        ended = os.WNOHANG if self.told and lifecycle.ending_without_teardown() else 0
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, ended)

    def cancel(self) -> None:
        """Stop the child at once (it has written nothing); one already writing the cache
        is waited for instead, so that it leaves no temporary file behind."""
        import contextlib
        import signal

        if self.reaped:
            return
        if self.told:
            self.wait()
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        for fd in (self.results, self.control, self.found):
            if fd is not None and fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.results, self.control, self.found = -1, None, -1
        self.wait()


_child: Child | None = None
_claimed: Child | None = None


def claim() -> Child | None:
    """The early child, for the one analysis that uses it (later calls get None)."""
    global _child, _claimed
    child, _child = _child, None
    _claimed = child
    if child is not None:
        child.drop_discovery()  # not asked for by now: never
    return child


def discovered(directory: Path, settings: MigrateSettings,
               ) -> tuple[list[MigrationFile], Layout, list[bytes]] | None:
    """The files of ``directory`` under ``settings``, its layout and the files' cache
    keys, as the early child found them before analysing — when it looked at the same
    directory with the same settings; else None (the caller discovers them itself).

    The child is a fork of this process reading the same files with the same code a
    few milliseconds earlier, so what it found is taken as this process's own (like its
    analyses, which are taken by key). It saves a cold ``migrate order`` of 2,000
    files ~50 ms of CPU in this process: reading, decoding and hashing every file."""
    child = _child
    found = child.discovery() if child is not None else None
    if found is None:
        return None
    where, settings_repr, plain_files, plain_layout, keys = found
    if where != str(directory) or settings_repr != repr(settings):
        return None  # it guessed another directory or other settings
    from functools import partial

    from calctl.sql.discovery import MigrationFile
    from calctl.sql.layout import Layout

    files = list(map(partial(tuple.__new__, MigrationFile), plain_files))
    return files, tuple.__new__(Layout, plain_layout), keys


def share(found: int, directory: Path, settings: MigrateSettings,
          files: list[MigrationFile], layout: Layout, keys: list[bytes]) -> None:
    """In the child: send what it found for :func:`discovered` (marshal takes plain tuples
    only; a text that is its raw file is one object, sent once)."""
    import marshal

    send(found, marshal.dumps((str(directory), repr(settings), list(map(tuple, files)),
                               tuple(layout), keys)))


def cancel() -> None:
    """At the command's end: stop an early child nobody claimed (the command replayed its
    output, or failed first), or one that was claimed but never waited for (the command
    failed or was interrupted while using it). A finished one is left alone."""
    global _claimed
    claimed = _claimed  # before claim(), which replaces it
    for child in (claim(), claimed):
        if child is not None and not child.reaped:
            child.cancel()
    _claimed = None


def start(args: list[str]) -> None:
    """Fork the early analysis when ``args`` plainly run ``migrate order|lint``."""
    global _child
    if _child is not None or not hasattr(os, "fork") or parallel_cpus() < 2:
        return
    guess = parse(args)
    if guess is None:
        return
    _output_flags(guess, args)
    _preload()
    if _cold(guess):
        # both processes will analyse: import the analyser once, before the fork,
        # instead of in each (~16 ms of CPU in the child on a cold run)
        import calctl.sql.analyse  # noqa: F401
    pipes: list[tuple[int, int]] = []
    try:
        for _ in range(3):  # results (child → parent), control (parent → child), found
            pipes.append(os.pipe())
    except OSError:
        for fd in (fd for pair in pipes for fd in pair):
            os.close(fd)
        return
    (results_read, results_write), (control_read, control_write), (found_read, found_write) \
        = pipes
    for fd in (results_write, control_write, found_write):
        _widen(fd)
    progress = Progress()
    try:
        pid = os.fork()
    except OSError:
        for fd in (fd for pair in pipes for fd in pair):
            os.close(fd)
        return
    if pid == 0:  # the child: never returns
        try:
            for fd in (results_read, control_write, found_read):
                os.close(fd)
            _detach_output()
            _work(guess, results_write, control_read, progress, found_write)
        finally:
            os._exit(0)
    for fd in (results_write, control_read, found_write):
        os.close(fd)
    _child = Child(pid, results_read, control_write, progress, found_read)


def _detach_output() -> None:
    """In the child: standard input and output become /dev/null. It never prints, and a
    pipeline (``calctl migrate order --json | jq``), a terminal or a test reading the
    command's output sees its end when the parent ends, not when the child has ended."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _preload() -> None:
    """Import what :func:`_work` uses before forking, not in the child: the command imports
    the same modules anyway, so the two processes share them instead of each paying
    ~0.1 s of CPU — which was all the child cost on a warm run, where it ends at once."""
    import calctl.config
    import calctl.sql.cache
    import calctl.sql.discovery
    import calctl.sql.facts
    import calctl.sql.flags
    import calctl.state
    import calctl.terminal  # noqa: F401


def _cold(guess: dict[str, Any]) -> bool:
    """Whether the run is plainly cold: the state directory named by ``--state-dir`` or
    CALCTL_STATE_DIR holds no parse cache shard (an unnamed one is not resolved here:
    that is the child's work, and the analyser is then imported where it is needed)."""
    state = guess.get("--state-dir") or os.environ.get("CALCTL_STATE_DIR")
    if not state:
        return False
    try:
        names = os.listdir(os.path.join(state, "cache"))
    except OSError:
        return True  # no cache directory yet (or none readable): nothing to reuse
    return not any(name.startswith("migrate-analysis-") for name in names)


def _widen(fd: int) -> None:
    """Give a pipe room for a 2,000-file share of analyses (~1 MB), so each side hands
    its analyses over without waiting for the other to read (Linux only)."""
    import fcntl

    size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if size is not None:
        try:  # noqa: SIM105 (contextlib is not imported before the fork)
            fcntl.fcntl(fd, size, 1 << 20)
        except OSError:
            pass


def parse(args: list[str]) -> dict[str, Any] | None:
    """What ``args`` say about the analysis, or None unless they plainly run
    ``migrate order`` or ``migrate lint`` with flags known here (:mod:`calctl.argv`)."""
    from calctl.argv import analysis_args

    return analysis_args(args)


def _output_flags(guess: dict[str, Any], args: list[str]) -> None:
    """Add to ``guess`` what the key of a replayed output needs beyond what :func:`parse`
    records (a wrong guess only makes the child work for nothing, as before)."""
    rest = args[args.index("migrate") + 1:] if "migrate" in args else []
    guess["scope"] = rest[0] if rest else ""
    fmt = str(guess.get("--format", "text")).lower()
    guess["flags"] = ("json" if "--json" in args else fmt,
                      "--check" in args if guess["scope"] == "order"
                      else guess.get("--fail-on", "error"),
                      "-q" in args or "--quiet" in args)  # cli.migrate._common.cached_run


def _work(guess: dict[str, Any], results: int, control: int, progress: Progress,
          found: int = -1) -> None:
    """In the child (the collector is off: calctl.entry paused it before the fork): end
    at once when the command's output is cached (it will be replayed); else analyse what
    the parse cache lacks from the front of the common list until it meets the parent,
    send that, and write the parse cache if the parent says where."""
    from pathlib import Path

    from calctl.config import Settings
    from calctl.sql.cache import ParseCache, file_inputs, load_output, output_key
    from calctl.sql.discovery import discover_layout
    from calctl.sql.facts import AnalysisInput, to_plain
    from calctl.sql.flags import migrate_overrides, with_migrate_flags
    from calctl.state import StateDir
    from calctl.terminal import style_key

    pairs = Packed(stream=results)  # each chunk sent as it is made
    known: ParseCache | None = None
    try:
        overrides = migrate_overrides(glob=guess["--glob"], exclude=guess["--exclude"],
                                      search_path=guess.get("--search-path"),
                                      sort=guess.get("--sort"))
        flags = {"config": guess.get("--config"), "state_dir": guess.get("--state-dir"),
                 "trust_config": guess.get("trust_config"), **overrides}
        settings, directory = with_migrate_flags(
            Settings.resolve(flags), Path(guess["directory"]) if guess["directory"] else None,
            define=guess["--define"])
        migrate = settings.migrate
        cache_dir = StateDir(settings.state_dir).cache
        # in the command's order, for the output key (the files are few to sort)
        files, layout = discover_layout(directory, globs=migrate.glob,
                                        exclude=migrate.exclude, sort=migrate.sort)
        todo: list[int] = []
        if len(files) >= PARALLEL_THRESHOLD:
            inputs = file_inputs(files, migrate)
            keys = list(map(AnalysisInput.key, inputs))
            if found >= 0:
                share(found, directory, migrate, files, layout, keys)
            replayed = load_output(cache_dir, output_key(
                guess["scope"], directory, files, keys, migrate, guess["flags"], style_key(),
                layout.order))
            if replayed is None:
                # only what the parse cache lacks, as the command will find (read now;
                # the entries it has are kept first if this process writes it later)
                known = ParseCache(cache_dir)
                todo = [i for i, key in enumerate(keys) if not known.keep(key)]
        found = _closed(found)  # shared, or nothing to share: the parent reads EOF
        if len(todo) >= PARALLEL_THRESHOLD:
            from calctl.sql.analyse import analyse

            for item, t in enumerate(common_order([keys[i] for i in todo])):
                if not progress.child_takes(item):
                    break
                analysis = analyse(inputs[todo[t]])
                pairs.add(keys[todo[t]], to_plain(analysis))
    except Exception:  # (what it analysed and sent stands; the parent does the rest)
        pass
    _closed(found)
    send_and_save(pairs, results, control, known)


def _closed(fd: int) -> int:
    if fd >= 0:
        os.close(fd)
    return -1


def send_and_save(pairs: Packed, results: int, control: int,
                  known: ParseCache | None = None) -> None:
    """In the child: send ``pairs`` (cache key, plain analysis), then wait for the parent's
    word and write the parse cache — these and the parent's — if it names a directory.
    ``known``: the cache as read at the start, with the entries this run found marked;
    used when it is the one the parent names. Both sides' analyses are written from
    their plain form, as they crossed the pipe: no analysis is rebuilt here (~25 ms per
    1,000 files, at the end of a cold run)."""
    from pathlib import Path

    from calctl.sql.cache import ParseCache

    pairs.finish(results)
    with os.fdopen(control, "rb") as pipe:
        told = pipe.read()
    where, sep, theirs = told.partition(b"\0")
    if not (where and sep):
        os.close(results)
        return
    try:
        directory = Path(os.fsdecode(where))
        cache = known if known is not None and known.directory == directory \
            else ParseCache(directory)
        from itertools import chain

        for key, plain in chain(pairs.pairs, unpacked(theirs)):
            cache.put(key, plain)
        cache.save()
        os.write(results, b"\1")  # the cache is written: the parent need not wait for our end
    finally:
        os.close(results)
