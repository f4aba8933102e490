"""The output formats of ``migrate order`` and ``migrate lint``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"
    gitlab = "gitlab"
    junit = "junit"


FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", help="text (default), json, github (workflow annotations), "
                 "sarif (2.1.0, for code scanning), gitlab (Code Quality report) or junit "
                 "(JUnit XML).", case_sensitive=False),
]
