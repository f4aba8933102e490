"""Problems as GitHub workflow annotations and as SARIF 2.1.0 (GitHub code scanning)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from calctl import __version__
from calctl.documents import Move, Problem

_GH_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}


def shown_path(directory: Path, path: str) -> str:
    """The file's path relative to the working directory (what CI annotations expect)."""
    full = directory / path
    try:
        return Path(os.path.relpath(full)).as_posix()
    except ValueError:
        return full.as_posix()


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
        message = p.message + (f" ({p.hint})" if p.hint else "")
        out.append(f"::{_GH_LEVEL[p.severity]} {','.join(props)}::{_escape_data(message)}")
    for m in moves:
        out.append(f"::notice file={_escape_property(shown_path(directory, m.path))},"
                   f"title=rename::{_escape_data(move_text(m))}")
    return out


def move_text(move: Move) -> str:
    """What to do about one file of a plan's move list (text output and annotations)."""
    return f"rename {move.path} to sort after {move.after}" + (
        f": {move.reason}" if move.reason else "")


def sarif(directory: Path, problems: Sequence[Problem],
          moves: Sequence[Move] = ()) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run, the rule registry as the driver's rules; a
    plan's move list is the run's ``properties.moves`` (``path``, ``after``, ``reason``,
    paths as in the results)."""
    from calctl.sql.rules import RULES

    rules = []
    index = {}
    for i, cls in enumerate(RULES):
        index[cls.code] = i
        doc = (cls.__doc__ or "").strip()
        rules.append({
            "id": cls.code,
            "name": "".join(part.capitalize() for part in cls.name.split("-")),
            "shortDescription": {"text": cls.summary()},
            "fullDescription": {"text": " ".join(doc.split())},
            "defaultConfiguration": {"level": _SARIF_LEVEL[cls.severity]},
            "properties": {"tags": [cls.scope]},
        })
    results = []
    for p in problems:
        region: dict[str, int] = {"startLine": max(p.line or 1, 1)}
        if p.column:
            region["startColumn"] = max(p.column, 1)
        result: dict[str, Any] = {
            "ruleId": p.code,
            "level": _SARIF_LEVEL[p.severity],
            "message": {"text": p.message + (f" {p.hint}" if p.hint else "")},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": shown_path(directory, p.path),
                                     "uriBaseId": "%SRCROOT%"},
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
