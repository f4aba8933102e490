"""The audit trail in the terminal: ``calctl events`` and ``calctl history``."""

from __future__ import annotations

from typing import Annotated

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import JsonOpt


def events(
    ctx: typer.Context,
    follow: Annotated[bool, typer.Option("--follow", "-f",
                                         help="Keep printing new events.")] = False,
    since: Annotated[str | None, typer.Option(
        "--since", help="Only events at or after this ISO time (e.g. 2026-11-25T10:00), or "
        "this long ago: 90s, 10m, 2h, 7d.")] = None,
    type_: Annotated[str | None, typer.Option(
        "--type", help="Only events whose type starts with this prefix (e.g. patch.).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Print the event log; with --json one event per line (NDJSON)."""
    from calctl.documents import Event
    from calctl.events.log import follow as follow_log
    from calctl.events.log import read_events
    from calctl.output import out_console, print_ndjson
    from calctl.state import StateDir

    as_json = wants_json(ctx, json_)
    since = _normalise_since(since)
    path = StateDir(app_context(ctx).settings().state_dir).events_path

    def show(event: Event) -> None:
        if as_json:
            print_ndjson(event)
        else:
            subject = f" {event.subject}" if event.subject else ""
            out_console().print(f"{event.ts[:23]}  {event.type}{subject}", markup=False)

    if follow:
        for event in follow_log(path, since=since, type_prefix=type_):
            show(event)
    else:
        for event in read_events(path, since=since, type_prefix=type_):
            show(event)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def _normalise_since(since: str | None) -> str | None:
    """``--since`` as the UTC timestamp the log is compared with: an ISO date or time, or
    a duration back from now (``10m``, as ``journalctl``/``docker logs`` take it)."""
    if not since:
        return None
    import re
    from datetime import UTC, datetime, timedelta

    from calctl.errors import UsageError

    ago = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", since)
    try:
        if ago:
            back = timedelta(seconds=float(ago.group(1)) * _UNITS[ago.group(2)])
            parsed = datetime.now(UTC) - back
        else:
            parsed = datetime.fromisoformat(since)
    except (ValueError, OverflowError):
        raise UsageError(f"--since {since!r} is neither an ISO date or time nor a duration",
                         hint="Use e.g. 2026-11-25, 2026-11-25T10:00:00Z, or 90s, 10m, 2h, "
                         "7d (that long ago).") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="microseconds")


def history(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many of each.")] = 20,
    json_: JsonOpt = False,
) -> None:
    """List recent bug reports and patch applications from the audit store."""
    from calctl.output import out_console, print_json, quiet

    store = app_context(ctx).store()
    reports = store.bug_reports(limit)
    patches = store.patch_applications(limit)
    if wants_json(ctx, json_):
        print_json({"kind": "history", "version": 1, "bug_reports": reports,
                    "patches": patches})
        return
    console = out_console()
    if quiet() and not reports and not patches:
        return  # -q: an empty trail is nothing to report
    console.print(f"bug reports ({len(reports)})", style="bold")
    for r in reports:
        where = f"{r['file_path']}:{r['line_number']}" if r["file_path"] else ""
        console.print(f"  {r['created_at'][:19]}  {r['status']:<10} {r['error_message'][:80]}"
                      f"  {where}", markup=False)
    console.print(f"patches ({len(patches)})", style="bold")
    for p in patches:
        console.print(f"  {p['applied_at'][:19]}  {p['status']:<11} {p['patch_id']}"
                      f"  {p['description'] or ''}", markup=False)
