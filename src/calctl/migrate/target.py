"""The application database ``migrate`` works on: finding its URL, and the files that
change its session (connecting is :mod:`calctl.postgres`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from calctl.errors import UsageError

if TYPE_CHECKING:

    from calctl.config import MigrateSettings


def resolve_url(flag: str | None, settings: MigrateSettings,
                env: Mapping[str, str] | None = None, *, required: bool = True,
                command: str = "apply") -> str | None:
    """The target URL: ``--database-url``, else ``$<database_url_env>``, else the setting."""
    environ = os.environ if env is None else env
    url = flag or environ.get(settings.database_url_env) or settings.database_url or None
    if url is None and required:
        # two databases have URLs; say which one is missing (the audit store never is)
        raise UsageError(
            f"no target database for `migrate {command}` (the database to migrate): pass "
            f"--database-url after `migrate {command}`, set {settings.database_url_env}, or "
            "set [migrate] database_url",
            hint=f"For example: export {settings.database_url_env}="
            "postgresql://user@host:5432/app (the password from PGPASSWORD or ~/.pgpass). "
            "--store-url (CALCTL_STORE_URL) names the audit store, a different database.",
            code="no-database-url",
        )
    return url


# A statement that changes session state beyond its transaction (not SET LOCAL).
_SESSION_CHANGE = re.compile(r"(?:^|;)\s*(?:set|reset)\s+(?!local\b)", re.I | re.M)


def changes_session(text: str) -> bool:
    """Does a file change session settings (search_path, role …) that would leak onward?"""
    return bool(_SESSION_CHANGE.search(text))
