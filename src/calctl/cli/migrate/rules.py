"""``calctl migrate rules``: the lint rules, as a table or a JSON document."""

from __future__ import annotations

from typing import Any

import typer

from calctl.cli._context import wants_json
from calctl.cli._options import JsonOpt


def rules(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """List the lint rules: code, name, severity, where they run, squawk's names for them,
    what they catch."""
    from calctl.sql.rules import RULES

    rows: list[dict[str, Any]] = [{"code": cls.code, "name": cls.name, "severity": cls.severity,
             "scope": cls.scope, "squawk": list(cls.squawk), "default": not cls.opt_in,
             "summary": cls.summary(),
             "doc": " ".join((cls.__doc__ or "").split())} for cls in RULES]
    if wants_json(ctx, json_):
        from calctl.output import print_json

        print_json({"kind": "migration-rules", "version": 1, "rules": rows})
        return
    from rich.table import Table

    from calctl.output import out_console

    table = Table(box=None, header_style="bold")
    for column in ("code", "name", "severity", "runs in", "squawk", "summary"):
        table.add_column(column)
    for row in rows:
        scope = "order, lint" if row["scope"] == "order" else "lint"
        name = row["name"] + (" (opt-in)" if not row["default"] else "")
        table.add_row(row["code"], name, row["severity"], scope,
                      ", ".join(row["squawk"]) or "-", row["summary"])
    out_console().print(table)
