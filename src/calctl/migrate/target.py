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
                env: Mapping[str, str] | None = None, *, required: bool = True) -> str | None:
    """The target URL: ``--database-url``, else ``$<database_url_env>``, else the setting."""
    environ = os.environ if env is None else env
    url = flag or environ.get(settings.database_url_env) or settings.database_url or None
    if url is None and required:
        raise UsageError(
            "no database to migrate: pass --database-url or set "
            f"{settings.database_url_env}",
            hint=f"For example: export {settings.database_url_env}="
            "postgresql://user@host:5432/app (the password from PGPASSWORD or ~/.pgpass).",
            code="no-database-url",
        )
    return url


# A statement that changes session state beyond its transaction (not SET LOCAL).
_SESSION_CHANGE = re.compile(r"(?:^|;)\s*(?:set|reset)\s+(?!local\b)", re.I | re.M)


def changes_session(text: str) -> bool:
    """Does a file change session settings (search_path, role …) that would leak onward?"""
    return bool(_SESSION_CHANGE.search(text))
