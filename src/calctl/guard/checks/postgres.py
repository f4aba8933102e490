"""``postgres``: the database in ``database_url_env`` answers ``query`` (``select 1``).

Connected through :mod:`calctl.postgres` (a named session, errors without the
password), in a thread, with the check's timeout as the connect and statement
timeout.
"""

from __future__ import annotations

import math
import os

from calctl.config.checks import CheckSpec
from calctl.guard.model import CheckContext, Outcome


async def check(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    from calctl.guard.checks._thread import in_thread  # asyncio: not for a lone check

    return await in_thread(lambda: check_sync(spec, ctx))


def check_sync(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    variable = str(spec.options["database_url_env"])
    url = os.environ.get(variable, "")
    if not url:
        return Outcome(False, f"environment variable {variable} is not set",
                       hint=f"Export {variable} (a PostgreSQL URL) where guard runs.")
    query = str(spec.options["query"])
    timeout_ms = max(1, int(spec.timeout * 1000))

    from calctl.errors import CalctlError
    from calctl.postgres import connect, describe_target

    target = describe_target(url)
    try:
        conn = connect(url, purpose=f"calctl guard {spec.name}",
                       connect_timeout=max(1, math.ceil(spec.timeout)))
    except CalctlError as exc:
        return Outcome(False, exc.message, hint=exc.hint, data={"database": target})
    try:
        import psycopg

        with conn.cursor() as cur:
            cur.execute(f"SET statement_timeout = {timeout_ms}")
            cur.execute(query.encode())
            row = cur.fetchone() if cur.description else None
    except psycopg.Error as exc:
        state = getattr(exc, "sqlstate", None) or ""
        return Outcome(False, f"{target}: {str(exc).strip().splitlines()[0]}",
                       sqlstate=state, data={"database": target, "query": query})
    finally:
        conn.close()
    return Outcome(True, detail={"database": target,
                                 "row": [str(v) for v in row][:5] if row else []})
