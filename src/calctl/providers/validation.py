"""Every patch a provider proposes goes through the patch engine's own validation.

A diagnosis carries a patch only when :func:`patch_problems` finds nothing wrong with
it: confined to the project root, nothing protected (tests, CI, applied migrations …),
every search text found exactly once, within the size caps. A patch that fails is
never returned, not even in part.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from calctl.errors import CalctlError

if TYPE_CHECKING:
    from calctl.documents import Patch
    from calctl.patch.validate import Plan
    from calctl.providers.base import ProviderContext


def plan(patch: Patch, ctx: ProviderContext, *, root: Path | None = None) -> Plan:
    """The patch engine's in-memory plan of ``patch`` against ``root`` (default: the
    project root); its ``reasons`` say why it would be refused."""
    from calctl.patch.context import PatchEnv, confinement
    from calctl.patch.validate import plan_patch

    settings = ctx.settings
    conf = confinement(settings, allow_protected=False, app_database_url=ctx.database_url)
    target = (root or ctx.root).resolve()
    if target != conf.root:
        conf = replace(conf, root=target, _applied=None, _compiled=None, _links=None,
                       _dir_links=None)
    return plan_patch(patch, conf, PatchEnv.from_settings(settings).limits)


def patch_problems(patch: Patch, ctx: ProviderContext) -> list[str]:
    """Why the patch engine would refuse ``patch`` (empty: it validates)."""
    try:
        result = plan(patch, ctx)
    except CalctlError as exc:  # a bad [patch] protect setting, say
        return [exc.message]
    if result.already_applied:
        return ["every edit is already applied; the patch changes nothing"]
    return result.reasons
