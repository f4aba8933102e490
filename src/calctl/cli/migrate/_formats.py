"""The output formats of ``migrate order`` and ``migrate lint`` (their option: ``FormatOpt``
in :mod:`calctl.cli.migrate._options`)."""

from __future__ import annotations

from enum import StrEnum


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"
    gitlab = "gitlab"
    junit = "junit"
