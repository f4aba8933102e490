"""The ``calctl`` Typer app: the root, its global options, and the commands.

Sub-apps live one per module and are registered in :func:`_register` when
:func:`run` runs — only the one the command line names, when that is certain
(heavy libraries are imported inside command bodies). Exceptions become a message
and an exit code in :mod:`calctl.cli.boundary`.
"""

from __future__ import annotations

import typer

from calctl import __version__
from calctl.argv import command_name, json_requested, subcommand_name
from calctl.cli._context import root_context
from calctl.cli._options import (
    ConfigOpt,
    JsonOpt,
    OldDatabaseUrlOpt,
    QuietOpt,
    StateDirOpt,
    StoreUrlOpt,
    TrustConfigOpt,
    VerboseOpt,
)
from calctl.cli.boundary import report_error
from calctl.errors import ExitCode
from calctl.lifecycle import imports_done

app = typer.Typer(
    name="calctl",
    help="Keeps a project healthy on its own: orders and applies SQL migrations, "
    "packages failures, applies verified fixes with rollback, and keeps an audit trail.",
    no_args_is_help=True,
    add_completion=True,  # Typer's --install-completion / --show-completion
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
    store_url: StoreUrlOpt = None,
    database_url: OldDatabaseUrlOpt = None,
    json_: JsonOpt = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
    trust_config: TrustConfigOpt = False,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Global options apply to every command."""
    if database_url is not None:
        from calctl.errors import UsageError

        raise UsageError(
            "calctl --database-url is no longer a global option: pass --store-url for the "
            "audit store, or --database-url after `migrate apply` (status, verify) for the "
            "database to migrate",
            hint="For example: calctl --store-url $AUDIT_URL migrate apply --database-url "
            "$APP_URL (CALCTL_STORE_URL sets the audit store too).", code="renamed-option")
    context = root_context(config=config, state_dir=state_dir, store_url=store_url,
                           verbose=verbose, quiet=quiet, trust_config=trust_config,
                           json=json_)
    ctx.obj = context
    ctx.call_on_close(context.close)


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
        from calctl.cli.migrate import group as migrate_cli

        app.add_typer(migrate_cli.register(sub), name="migrate")
    if wanted("patch"):
        from calctl.cli import patch as patch_cli

        app.add_typer(patch_cli.app, name="patch")
    if wanted("report"):
        from calctl.cli import report as report_cli

        app.command("report")(report_cli.report)
    if wanted("guard"):
        from calctl.cli import guard as guard_cli

        app.add_typer(guard_cli.app, name="guard")
    if wanted("stats"):
        from calctl.cli import stats as stats_cli

        app.command("stats")(stats_cli.stats)


def run(args: list[str]) -> int:
    """The exit code of ``args`` parsed by Click; Click's own outcomes (usage errors,
    ``Exit``, ``Abort``) become codes here, the rest propagate to the caller's
    :func:`calctl.cli.boundary.guarded`."""
    try:
        name = command_name(args)
        _register(name, subcommand_name(args, name))
        command = typer.main.get_command(app)
        from calctl.cli._quiet import add_quiet

        add_quiet(command)  # -q after the command name too
        imports_done()  # the console script paused the collector for the imports
        result = command.main(args=args, prog_name="calctl", standalone_mode=False)
        return int(result) if isinstance(result, int) else ExitCode.OK
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 130
    except typer.TyperException as exc:
        from calctl.errors import UsageError

        if not exc.format_message():  # a bare group (`calctl`, `calctl migrate`): help
            return ExitCode.USAGE
        hint = ""
        ctx = getattr(exc, "ctx", None)
        if ctx is not None:
            hint = f"Run `{ctx.command_path} --help` for usage."
        report_error(UsageError(exc.format_message(), hint=hint),
                     as_json=json_requested(args), verbose=False)
        return ExitCode.USAGE
