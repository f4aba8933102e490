"""The ``calctl`` command: root Typer app, global options and the one error boundary.

Sub-apps live one per module and are registered in :func:`_register` when
:func:`main` runs — only the one the command line names, when that is certain
(heavy libraries are imported inside command bodies).
:func:`main` is the only place where an exception becomes a message and an
exit code.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import NoReturn

import typer

from calctl import __version__
from calctl.cli._context import AppContext
from calctl.cli._options import (
    ConfigOpt,
    DatabaseUrlOpt,
    JsonOpt,
    QuietOpt,
    StateDirOpt,
    TrustConfigOpt,
    VerboseOpt,
)
from calctl.errors import CalctlError, ExitCode
from calctl.interrupts import Interrupted

app = typer.Typer(
    name="calctl",
    help="Keeps a project healthy on its own: orders and applies SQL migrations, "
    "packages failures, applies verified fixes with rollback, and keeps an audit trail.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"calctl {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    config: ConfigOpt = None,
    state_dir: StateDirOpt = None,
    database_url: DatabaseUrlOpt = None,
    json_: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    trust_config: TrustConfigOpt = False,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Global options apply to every command."""
    context = AppContext(
        flags={
            "config": str(config) if config else None,
            "state_dir": str(state_dir) if state_dir else None,
            "database_url": database_url,
            "verbose": verbose,
            "quiet": quiet,
            "trust_config": trust_config or None,
        },
        json=json_,
    )
    ctx.obj = context
    if quiet:
        from calctl.output import set_quiet

        set_quiet(True)
    ctx.call_on_close(context.close)


# The top-level commands, and the global options that take a value (see _command_name).
COMMANDS = ("init", "config", "events", "history", "migrate", "patch")
_VALUE_OPTIONS = ("--config", "--state-dir", "--database-url")
_registered = False


def _register(only: str | None = None, sub: str | None = None) -> None:
    """Add the commands to ``app``: all of them, or only the one ``only`` names (and of
    a group, only its command ``sub``, when given).

    Building click commands inspects every command function's signature; a cron or
    CI run of one command should not pay for all sixteen (nor import their modules).
    """
    global _registered
    if _registered:
        return
    _registered = True

    def wanted(name: str) -> bool:
        return only is None or only == name

    if wanted("init") or wanted("config"):
        from calctl.cli import config as config_cli

        if wanted("init"):
            app.command("init")(config_cli.init)
        if wanted("config"):
            app.add_typer(config_cli.app, name="config")
    if wanted("events") or wanted("history"):
        from calctl.cli import history as history_cli

        if wanted("events"):
            app.command("events")(history_cli.events)
        if wanted("history"):
            app.command("history")(history_cli.history)
    if wanted("migrate"):
        from calctl.cli import migrate as migrate_cli
        from calctl.cli import migrate_apply

        # order/lint/rules and apply/status/verify are one `migrate` sub-app, kept in two
        # modules so the analysis and the engine stay separate.
        commands = [*migrate_cli.app.registered_commands,
                    *migrate_apply.app.registered_commands]
        chosen = [c for c in commands if c.name == sub]
        migrate_cli.app.registered_commands = chosen or commands
        app.add_typer(migrate_cli.app, name="migrate")
    if wanted("patch"):
        from calctl.cli import patch as patch_cli

        app.add_typer(patch_cli.app, name="patch")


def _subcommand_name(args: list[str], group: str | None) -> str | None:
    """The word after ``group`` in ``args`` (a group's command, when it is one; an
    unknown word registers the whole group, so the error lists its commands)."""
    if group is None:
        return None
    rest = args[args.index(group) + 1:]
    return rest[0] if rest and not rest[0].startswith("-") else None


def _command_name(args: list[str]) -> str | None:
    """The top-level command ``args`` run, when it is certain; None otherwise (then every
    command is registered, so help and "no such command" see them all)."""
    rest = iter(args)
    for arg in rest:
        if arg in _VALUE_OPTIONS:
            next(rest, None)
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def _json_requested(args: list[str]) -> bool:
    head = args[: args.index("--")] if "--" in args else args
    return "--json" in head


def _verbose_requested(args: list[str]) -> bool:
    head = args[: args.index("--")] if "--" in args else args
    return any(a == "--verbose" or (a.startswith("-v") and set(a[1:]) == {"v"}) for a in head)


def report_error(exc: CalctlError, *, as_json: bool, verbose: bool) -> None:
    """Write an error as one sentence + hint on stderr (and a document on stdout with --json)."""
    from calctl.output import err_console, print_json

    if as_json:
        from calctl.documents import ErrorDocument

        print_json(ErrorDocument(code=exc.code, message=exc.message, hint=exc.hint))
    console = err_console()
    if verbose:
        import traceback

        console.print("".join(traceback.format_exception(exc)), markup=False)
    console.print(f"calctl: error: {exc.message}", markup=False, style="bold red")
    if exc.hint:
        console.print(f"hint: {exc.hint}", markup=False)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the console script: run the app, map every outcome to an exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = _json_requested(args)
    verbose = _verbose_requested(args)
    code: int
    try:
        name = _command_name(args)
        _register(name, _subcommand_name(args, name))
        command = typer.main.get_command(app)
        gc.enable()  # the console script paused it for the imports (calctl.entry)
        result = command.main(args=args, prog_name="calctl", standalone_mode=False)
        code = int(result) if isinstance(result, int) else ExitCode.OK
    except CalctlError as exc:
        report_error(exc, as_json=as_json, verbose=verbose)
        _print_notes(exc)
        code = exc.exit_code
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        code = 130
    except typer.TyperException as exc:
        from calctl.errors import UsageError

        if not exc.format_message():  # a bare group (`calctl`, `calctl migrate`): help shown
            sys.exit(_finish(ExitCode.USAGE, argv))
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f"Run `{ctx.command_path} --help` for usage."
        report_error(UsageError(exc.format_message(), hint=hint), as_json=as_json,
                     verbose=False)
        code = ExitCode.USAGE
    except KeyboardInterrupt:
        code = 130
    except Interrupted as exc:  # SIGTERM/SIGHUP, or a signal during migrate verify's cleanup
        code = int(exc.code or 0)
        _print_notes(exc)  # e.g. a patch rolled back on the way out
    except BrokenPipeError:
        # stdout closed early (calctl … | head): not an error of ours.
        code = ExitCode.OK
    except Exception as exc:  # the last resort: a bug
        from calctl.errors import InternalError

        error = InternalError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint="This is a bug in calctl; rerun with -v for the traceback and report it.",
        )
        error.__traceback__ = exc.__traceback__
        report_error(error, as_json=as_json, verbose=verbose)
        code = ExitCode.INTERNAL
    sys.exit(_finish(code, argv))


def _print_notes(exc: BaseException) -> None:
    """What the core added to an exception on its way out (PEP 678 notes), on stderr."""
    for note in getattr(exc, "__notes__", ()):
        print(note, file=sys.stderr, flush=True)


def _finish(code: int, argv: list[str] | None) -> int:
    """Stop an early analysis the command left running; end at once when allowed."""
    global _skip_teardown
    early = sys.modules.get("calctl.sql.early")
    if early is not None:
        early.cancel()  # an early analysis nobody used (replayed output, an error)
    if argv is None and _skip_teardown:
        _exit_now(code)
    _skip_teardown = False
    _kept.clear()
    gc.enable()  # paused by skip_teardown()
    return code


# Set by commands that leave a large heap behind (a whole directory's analysis: about a
# million small objects). Tearing that down object by object at interpreter exit takes
# longer than printing the result, and nothing in it needs finalising.
_skip_teardown = False
_kept: list[object] = []


def skip_teardown() -> list[object]:
    """Let the console script end the process without freeing the heap (see ``main``).

    Returns a list that lives until then: a command puts its large results there instead
    of letting them be freed when its functions return (~10 ms for a 2,000-file
    analysis). The garbage collector stays paused until the end: its first pass would
    walk every object kept (~15 ms). Called in-process (tests), the list is emptied and
    the collector resumed when the command ends."""
    global _skip_teardown
    _skip_teardown = True
    gc.disable()
    return _kept


def _exit_now(code: int) -> NoReturn:
    """Flush, run atexit handlers, and end the process at once. Only when no other thread
    runs: a thread might still be writing something."""
    threading = sys.modules.get("threading")  # not imported: no thread was started
    if threading is not None and threading.active_count() > 1:
        sys.exit(code)
    import atexit

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)
