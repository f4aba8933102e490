"""Problems as GitHub workflow annotations and as SARIF 2.1.0 (GitHub code scanning).

Every format made for a terminal or a CI page (text, github, sarif, gitlab, junit) names a
file by its path relative to the working directory — the repository root in CI — so
terminals, editors and code scanning find it; a file outside the working directory is
named by its absolute path, as ruff and eslint do (a ``../`` path would leave the checkout
that CI maps annotations to). JSON documents keep paths relative to the migration
directory they name, which is what ``migrate apply --plan`` reads.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from calctl import __version__
from calctl.config.sections import MigrateSettings
from calctl.documents import Move, Problem

_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
# where docs/rules.md is published, unless [migrate] rules_docs_url says otherwise
DEFAULT_DOCS_URL: str = MigrateSettings.rules_docs_url


def shown_path(directory: Path, path: str) -> str:
    """The file's path relative to the working directory (what CI annotations expect), or
    its absolute path when it lies outside the working directory."""
    full = os.path.abspath(directory / path)
    try:
        relative = os.path.relpath(full)
    except ValueError:  # another drive (Windows)
        return Path(full).as_posix()
    if relative == ".." or relative.startswith(".." + os.sep):
        return Path(full).as_posix()
    return Path(relative).as_posix()


def location(directory: Path, problem: Problem) -> str:
    """``path:line:column`` (as far as known), the form terminals and editors jump to."""
    where = shown_path(directory, problem.path)
    if problem.line:
        where += f":{problem.line}"
        if problem.column:
            where += f":{problem.column}"
    return where


def sentence(text: str) -> str:
    """``text`` ending as a sentence does (a period added when it has no end mark)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else text + "."


def message_and_hint(problem: Problem) -> str:
    """The message and the hint as two sentences."""
    if not problem.hint:
        return sentence(problem.message)
    return f"{sentence(problem.message)} {sentence(problem.hint)}"


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")   # :func:`calctl.x` (Sphinx roles)
_LITERAL = re.compile(r"``(.+?)``", re.S)     # ``literal`` (reStructuredText)


def markdown_doc(doc: str) -> str:
    """A rule's docstring as Markdown: reStructuredText literals and roles become
    backticked code, and each paragraph one line."""
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", doc)
    text = _LITERAL.sub(lambda m: f"`{m.group(1)}`", text)
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def plain_doc(doc: str) -> str:
    """A rule's docstring as plain text: no reStructuredText quoting, one line."""
    return " ".join(markdown_doc(doc).split())


def rule_anchor(code: str, name: str) -> str:
    """The anchor of a rule's section in docs/rules.md (``#cal011-require-…``)."""
    return f"#{code.lower()}-{name}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_lines(directory: Path, problems: Sequence[Problem],
                 moves: Sequence[Move] = ()) -> list[str]:
    """``::error file=…,line=…,col=…,title=CAL001::message`` lines; then a
    ``::notice file=…,title=rename::…`` line per file of a plan's move list."""
    out = []
    for p in problems:
        props = [f"file={_escape_property(shown_path(directory, p.path))}"]
        if p.line:
            props.append(f"line={p.line}")
        if p.column:
            props.append(f"col={p.column}")
        props.append(f"title={_escape_property(p.code + ' ' + p.name)}")
        out.append(f"::{_GH_LEVEL[p.severity]} {','.join(props)}::"
                   f"{_escape_data(message_and_hint(p))}")
    for m in moves:
        out.append(f"::notice file={_escape_property(shown_path(directory, m.path))},"
                   f"title=rename::{_escape_data(move_text(m))}")
    return out


def move_text(move: Move) -> str:
    """What to do about one file of a plan's move list (text output and annotations)."""
    return f"rename {move.path} to sort after {move.after}" + (
        f": {move.reason}" if move.reason else "")


def artifact_location(directory: Path, path: str) -> dict[str, str]:
    """A SARIF ``artifactLocation``: a percent-encoded URI relative to ``%SRCROOT%`` (the
    working directory), or a ``file:`` URI for a file outside it."""
    from urllib.parse import quote

    shown = shown_path(directory, path)
    if os.path.isabs(shown):
        return {"uri": Path(shown).as_uri()}
    return {"uri": quote(shown, safe="/"), "uriBaseId": "%SRCROOT%"}


def sarif(directory: Path, problems: Sequence[Problem], moves: Sequence[Move] = (), *,
          docs_url: str = DEFAULT_DOCS_URL) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run, the rule registry as the driver's rules (each with
    a ``helpUri`` to its section of ``docs_url``); a plan's move list is the run's
    ``properties.moves`` (``path``, ``after``, ``reason``, paths as in the results)."""
    from calctl.sql.rules import RULES

    rules = []
    index = {}
    for i, cls in enumerate(RULES):
        index[cls.code] = i
        doc = (cls.__doc__ or "").strip()
        rule: dict[str, Any] = {
            "id": cls.code,
            "name": "".join(part.capitalize() for part in cls.name.split("-")),
            "shortDescription": {"text": sentence(plain_doc(cls.summary()))},
            "fullDescription": {"text": plain_doc(doc)},
            "help": {"text": plain_doc(doc), "markdown": markdown_doc(doc)},
            "defaultConfiguration": {"level": _SARIF_LEVEL[cls.severity]},
            "properties": {"tags": [cls.scope]},
        }
        if docs_url:
            rule["helpUri"] = docs_url + rule_anchor(cls.code, cls.name)
        rules.append(rule)
    results = []
    for p in problems:
        region: dict[str, int] = {"startLine": max(p.line or 1, 1)}
        if p.column:
            region["startColumn"] = max(p.column, 1)
        result: dict[str, Any] = {
            "ruleId": p.code,
            "level": _SARIF_LEVEL[p.severity],
            "message": {"text": message_and_hint(p)},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact_location(directory, p.path),
                "region": region,
            }}],
        }
        if p.code in index:
            result["ruleIndex"] = index[p.code]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "calctl", "version": __version__,
                            "informationUri": "https://github.com/calctl/calctl",
                            "rules": rules}},
        "results": results,
    }
    if moves:
        run["properties"] = {"moves": [
            {"path": shown_path(directory, m.path), "after": shown_path(directory, m.after),
             "reason": m.reason} for m in moves]}
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
