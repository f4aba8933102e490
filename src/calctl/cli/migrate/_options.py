"""The paths and the output format of ``migrate order`` and ``migrate lint``: Typer
option aliases, apart from the modules the fast path imports (no Typer there)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from calctl.cli.migrate._formats import OutputFormat

MigrationPathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Migration directory (default: \\[migrate] dir, else migrations/), or migration "
        "files (as pre-commit passes them): the directories they belong to are checked.",
        show_default=False, metavar="[DIR|FILE]..."),
]

FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", help="text (default), json, github (workflow annotations), "
                 "sarif (2.1.0, for code scanning), gitlab (Code Quality report) or junit "
                 "(JUnit XML).", case_sensitive=False),
]
