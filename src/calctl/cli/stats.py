"""``calctl stats``: heal rate, time to repair, fixes learned and replayed."""

from __future__ import annotations

import typer

from calctl.cli._context import app_context, wants_json
from calctl.cli._options import JsonOpt


def stats(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """How well the project heals: per provider and per check, from the audit store."""
    from calctl.guard.stats import heal_stats
    from calctl.output import plural, print_json, quiet

    document = heal_stats(app_context(ctx).store())
    if wants_json(ctx, json_):
        print_json(document)
        return
    if quiet() and not document.runs and not document.fixes_learned:
        return  # -q: no heal run and nothing learned yet is nothing to report
    mttr = "-" if document.mean_time_to_repair is None else \
        f"{document.mean_time_to_repair:.1f} s"
    lines = [
        f"level {document.level}: {plural(document.fixes_learned, 'fix', 'fixes')} learned, "
        f"{document.fixes_replayed} replayed from memory, {document.fixes_forgotten} "
        "forgotten (failed verification)",
        f"heal runs {document.runs}: {document.verified} verified, {document.failed} failed, "
        f"{document.rolled_back} rolled back, {document.no_fix} without a fix, "
        f"{document.skipped} skipped",
        f"heal rate {document.heal_rate:.0%}, mean time to repair {mttr}",
    ]
    for title, rows in (("provider", document.providers), ("check", document.checks)):
        for row in rows:
            row_mttr = "-" if row.mean_time_to_repair is None else \
                f"{row.mean_time_to_repair:.1f} s"
            lines.append(f"  {title} {row.name}: {plural(row.runs, 'run')}, "
                         f"{row.verified} verified, "
                         f"rate {row.heal_rate:.0%}, repair {row_mttr}, "
                         f"{row.replayed} replayed")
    import sys

    sys.stdout.write("\n".join(lines) + "\n")
