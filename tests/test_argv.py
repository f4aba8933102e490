"""The command line as read before Click (calctl.argv): the flag lists match the commands,
and each reader finds what Click will."""

from __future__ import annotations

import typer
from typer.core import TyperGroup, TyperOption

from calctl import argv


def _built() -> TyperGroup:
    import calctl.cli.app as cli

    cli._register()
    root = typer.main.get_command(cli.app)
    assert isinstance(root, TyperGroup)
    return root


def _opts(command: typer.core.TyperCommand | TyperGroup, *,
          takes_value: bool | None = None) -> set[str]:
    """Every spelling of the command's options (those taking a value, or the flags)."""
    found: set[str] = set()
    for p in command.params:
        if not isinstance(p, TyperOption):
            continue
        if takes_value is None or takes_value == (not p.is_flag and not p.count):
            found.update(o for o in (*p.opts, *p.secondary_opts) if o.startswith("-"))
    return found


def test_the_global_lists_are_exactly_the_root_options() -> None:
    root = _built()
    # both ways: an option missing here would make command_name() take its value for the
    # command, and one listed here that the root lacks would hide a typo
    assert _opts(root, takes_value=True) == argv.GLOBAL_VALUE_OPTIONS
    assert _opts(root, takes_value=False) == argv.GLOBAL_FLAGS | {"-v", "--version"}


def test_the_command_lists_cover_order_and_lint() -> None:
    migrate = _built().commands["migrate"]
    assert isinstance(migrate, TyperGroup)
    value_options: set[str] = set()
    flags: set[str] = set()
    for name in ("order", "lint"):
        command = migrate.commands[name]
        value_options |= _opts(command, takes_value=True)
        flags |= _opts(command, takes_value=False)
        assert _opts(command) <= argv.COMMAND_VALUE_OPTIONS | argv.COMMAND_FLAGS
    assert value_options == argv.COMMAND_VALUE_OPTIONS
    assert flags == argv.COMMAND_FLAGS
    repeated = {o for name in ("order", "lint") for p in migrate.commands[name].params
                if isinstance(p, TyperOption) and p.multiple for o in p.opts}
    assert repeated == set(argv.REPEATED)


def test_the_top_level_commands_are_the_registered_ones() -> None:
    assert set(_built().commands) == set(argv.COMMANDS)


def test_the_migrate_commands_are_the_registered_ones() -> None:
    from calctl.cli.migrate.group import COMMANDS

    migrate = _built().commands["migrate"]
    assert isinstance(migrate, TyperGroup)
    assert tuple(migrate.commands) == COMMANDS  # also the order `migrate --help` lists


def test_only_the_named_command_is_built_and_doubtful_lines_get_them_all() -> None:
    assert argv.command_name(["migrate", "order", "--check"]) == "migrate"
    assert argv.command_name(["--state-dir", "migrate", "patch", "list"]) == "patch"
    assert argv.command_name(["--json", "-vv", "--config=x.toml", "history"]) == "history"
    assert argv.command_name(["--help"]) is None
    assert argv.command_name(["nosuch"]) is None
    assert argv.command_name(["--", "migrate"]) is None


def test_of_a_group_only_the_named_command_is_built() -> None:
    assert argv.subcommand_name(["--json", "migrate", "order", "db"], "migrate") == "order"
    assert argv.subcommand_name(["migrate", "--help"], "migrate") is None
    assert argv.subcommand_name(["migrate"], "migrate") is None
    assert argv.subcommand_name(["init"], None) is None


def test_json_and_verbose_are_seen_before_a_double_dash_only() -> None:
    assert argv.json_requested(["migrate", "order", "--json"])
    assert not argv.json_requested(["patch", "apply", "--", "--json"])
    assert argv.verbose_requested(["-vvv", "history"])
    assert argv.verbose_requested(["--verbose", "history"])
    assert not argv.verbose_requested(["-vx", "history"])
    assert not argv.verbose_requested(["history", "--", "-v"])


def test_the_early_analysis_reads_the_line_with_the_same_parser() -> None:
    from calctl.sql import early

    line = ["--state-dir=/s", "-vv", "migrate", "lint", "db", "--glob", "*.sql",
            "--glob=x/*.sql", "--fail-on", "warning"]
    assert early.parse(line) == argv.analysis_args(line)
    assert early.parse(line) == {"--glob": ["*.sql", "x/*.sql"], "--exclude": [],
                                 "--define": [], "--assume-exists": [], "--state-dir": "/s",
                                 "--fail-on": "warning", "directory": "db", "--select": [],
                                 "--extend-select": [], "--ignore": []}


def test_what_the_fast_path_reads_is_what_order_and_the_root_take() -> None:
    """order_line() parses these lines itself (calctl.cli.quick): each option it reads
    must be the built command's, with the same arity and repetition."""
    root = _built()
    migrate = root.commands["migrate"]
    assert isinstance(migrate, TyperGroup)
    order = migrate.commands["order"]
    for name in argv.ORDER_ROOT_VALUE_OPTIONS:
        assert name in _opts(root, takes_value=True)
    assert {"--json", "-q", "--quiet", "--trust-config", "-v", "--verbose"} \
        <= _opts(root, takes_value=False)
    options = {o: p for p in order.params if isinstance(p, TyperOption) for o in p.opts}
    for name in argv.ORDER_VALUE_OPTIONS:
        param = options[name]
        assert not param.is_flag and not param.count
        assert param.multiple == (name in argv.REPEATED), name
        assert param.type.name == "str", name  # values taken as they are
    for name in ("--check", "--json"):
        assert options[name].is_flag
