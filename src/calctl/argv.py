"""The command line as read before Click parses it: one module, one list of each kind of flag.

Readers look at ``sys.argv`` ahead of Click, for speed only: the console script
(:mod:`calctl.sql.early`) to start ``migrate order|lint``'s analysis on another core
before anything is imported (:func:`analysis_args`), and :func:`calctl.cli.app.run` to
build only the command the line names (:func:`command_name`, :func:`subcommand_name`)
and to know how to report an error Click raises before any command runs
(:func:`json_requested`, :func:`verbose_requested`). A guess there that is wrong costs
time, never a different result.

One reader decides: :func:`order_line` parses the plain ``migrate order`` lines a CI job
writes (flags without choices, free values, paths), which then run without Typer
(:mod:`calctl.cli.quick`). It answers None for anything else, so Click parses every
line it is not sure of; tests/cli/test_quick.py runs every form it accepts both ways.

It lives beside ``cli/``, not in it: ``calctl.sql.early`` sits below the CLI in the
layers (import-linter keeps it so), and the Typer app (``calctl.cli.app``) must not be
imported before the early fork. Like ``early``, it imports nothing at run time (not
even ``typing``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (mypy knows the name)
if TYPE_CHECKING:
    from typing import Any

# The top-level commands (cli.app._register builds only the one named, when certain).
COMMANDS = ("init", "config", "events", "history", "migrate", "patch", "report", "guard",
            "stats")

# The root's options (cli.app.root): the ones that take a value, and the flags.
# tests/test_argv.py checks both against the built commands, so a new global option
# cannot be forgotten here.
# (--database-url: the audit store's old name, refused with a sentence by cli.app.root)
GLOBAL_VALUE_OPTIONS = frozenset({"--config", "--state-dir", "--store-url", "--database-url"})
GLOBAL_FLAGS = frozenset({"--json", "--quiet", "-q", "--verbose", "--trust-config",
                          "--install-completion", "--show-completion"})

# The options of `migrate order` and `migrate lint` (checked the same way).
COMMAND_VALUE_OPTIONS = frozenset({"--glob", "--exclude", "--define", "--search-path",
                                   "--assume-exists", "--format", "--fail-on", "--sort",
                                   # lint's selection, baseline, git and target options
                                   "--select", "--extend-select", "--ignore", "--baseline",
                                   "--write-baseline", "--changed-since", "--pg-version",
                                   "--database-url"})
COMMAND_FLAGS = frozenset({"--check", "--json", "--exit-zero", "--fix", "--diff", "--force"})
# -q after the command name (every command has it: cli._quiet)
QUIET_FLAGS = frozenset({"-q", "--quiet"})
REPEATED = ("--glob", "--exclude", "--define", "--assume-exists", "--select",
            "--extend-select", "--ignore")


def is_verbose(arg: str) -> bool:
    """``--verbose`` or one of its short spellings (``-v``, ``-vv``, …)."""
    return arg == "--verbose" or (arg.startswith("-v") and set(arg[1:]) == {"v"})


def _head(args: list[str]) -> list[str]:
    """The words before ``--`` (after it, nothing is an option)."""
    return args[: args.index("--")] if "--" in args else args


def json_requested(args: list[str]) -> bool:
    return "--json" in _head(args)


def verbose_requested(args: list[str]) -> bool:
    return any(is_verbose(a) for a in _head(args))


def command_name(args: list[str]) -> str | None:
    """The top-level command ``args`` run, when it is certain; None otherwise (then every
    command is registered, so help and "no such command" see them all)."""
    rest = iter(args)
    for arg in rest:
        if arg in GLOBAL_VALUE_OPTIONS:
            next(rest, None)
        elif arg == "--":
            return None
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def subcommand_name(args: list[str], group: str | None) -> str | None:
    """The word after ``group`` in ``args`` (a group's command, when it is one; an
    unknown word registers the whole group, so the error lists its commands)."""
    if group is None:
        return None
    rest = args[args.index(group) + 1:]
    return rest[0] if rest and not rest[0].startswith("-") else None


def analysis_args(args: list[str]) -> dict[str, Any] | None:
    """What ``args`` say about the analysis, or None unless they plainly run
    ``migrate order`` or ``migrate lint`` with flags known here."""
    found: dict[str, Any] = {name: [] for name in REPEATED}
    rest = list(args)
    while rest and rest[0].startswith("-"):
        arg = rest.pop(0)
        if arg.partition("=")[0] in GLOBAL_VALUE_OPTIONS:
            if not _store(found, arg, rest):
                return None
        elif arg == "--trust-config":
            found["trust_config"] = True
        elif arg not in GLOBAL_FLAGS and not is_verbose(arg):
            return None
    if rest[:1] != ["migrate"] or len(rest) < 2 or rest[1] not in ("order", "lint"):
        return None
    rest = rest[2:]
    directory: str | None = None
    while rest:
        arg = rest.pop(0)
        if arg.partition("=")[0] in COMMAND_VALUE_OPTIONS:
            if not _store(found, arg, rest):
                return None
        elif arg in COMMAND_FLAGS or arg in QUIET_FLAGS:
            continue
        elif arg.startswith("-") or directory is not None:
            return None  # --help, an unknown flag, a second directory: leave it to typer
        else:
            directory = arg
    found["directory"] = directory
    return found


def _store(found: dict[str, Any], arg: str, rest: list[str]) -> bool:
    """Record an option's value (``--name value`` or ``--name=value``, taking the value
    from ``rest``); False when the value is missing."""
    name, sep, value = arg.partition("=")
    if not sep:
        if not rest:
            return False
        value = rest.pop(0)
    if name in REPEATED:
        found[name].append(value)
    else:
        found[name] = value
    return True


# `migrate order` lines order_line() parses itself: global options, then the command's.
# No option with choices (--format, --sort: Click validates them), no --help/--version,
# no `--name=value`, no `--`, no value that starts with "-": such lines go to Click.
ORDER_ROOT_VALUE_OPTIONS = ("--config", "--state-dir", "--store-url")
ORDER_VALUE_OPTIONS = ("--glob", "--exclude", "--define", "--assume-exists", "--search-path")


def order_line(args: list[str]) -> dict[str, Any] | None:
    """The values of a plain ``calctl [global options] migrate order [options] [paths]``
    line, as Click would give them to the root and to the command; None for any other
    line, or any doubt."""
    line: dict[str, Any] = {"--config": None, "--state-dir": None, "--store-url": None,
                            "--search-path": None, "json": False, "quiet": False,
                            "verbose": 0, "trust_config": False, "check": False,
                            "order_json": False, "order_quiet": False, "paths": []}
    for name in ORDER_VALUE_OPTIONS:
        if name in REPEATED:
            line[name] = []
    rest = iter(args)
    for arg in rest:
        if arg == "migrate":
            break
        if arg in ORDER_ROOT_VALUE_OPTIONS:
            value = next(rest, None)
            if value is None or value.startswith("-") or line[arg] is not None:
                return None
            line[arg] = value
        elif arg == "--json":
            line["json"] = True
        elif arg in QUIET_FLAGS:
            line["quiet"] = True
        elif arg == "--trust-config":
            line["trust_config"] = True
        elif is_verbose(arg):
            line["verbose"] += 1 if arg == "--verbose" else len(arg) - 1
        else:
            return None
    else:
        return None
    if next(rest, None) != "order":
        return None
    for arg in rest:
        if arg in ORDER_VALUE_OPTIONS:
            value = next(rest, None)
            if value is None or value.startswith("-"):
                return None
            if arg in REPEATED:
                line[arg].append(value)
            elif line[arg] is not None:  # a single option given twice: Click's to judge
                return None
            else:
                line[arg] = value
        elif arg == "--check":
            line["check"] = True
        elif arg == "--json":
            line["order_json"] = True
        elif arg in QUIET_FLAGS:
            line["order_quiet"] = True
        elif arg.startswith("-"):
            return None
        else:
            line["paths"].append(arg)
    return line
