"""``http``: a request answered with an expected status (and body) in time.

Keys: ``url``, ``method`` (GET), ``expect_status`` (200-399; a status, a list, or
ranges such as ``"200-299"``), ``expect_body`` (a regular expression searched in
the body), ``headers`` (``{Authorization = "WEB_TOKEN"}``: each value names the
environment variable holding the header's value, so no secret is in the config).
"""

from __future__ import annotations

import os
import re

from calctl.config.checks import CheckSpec, status_set
from calctl.guard.model import CheckContext, Outcome, import_httpx
from calctl.redact import mask_dsn

BODY_LIMIT = 1 << 20  # bytes of the body searched by expect_body


async def check(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    httpx = import_httpx()

    options = spec.options
    url = str(options["url"])
    shown = mask_dsn(url)
    headers = {}
    for header, variable in dict(options.get("headers") or {}).items():
        value = os.environ.get(variable, "")
        if not value:
            return Outcome(False, f"header {header} of {shown}: environment variable "
                           f"{variable} is not set",
                           hint=f"Export {variable} in the environment guard runs in.")
        headers[header] = value
    try:
        response = await ctx.http().request(str(options["method"]).upper(), url,
                                            headers=headers, timeout=spec.timeout)
    except httpx.TimeoutException:
        return Outcome(False, f"{shown} did not answer within {spec.timeout:g} s",
                       data={"url": shown})
    except httpx.HTTPError as exc:
        return Outcome(False, f"{shown}: {type(exc).__name__}: {exc}", data={"url": shown})
    allowed = status_set(options.get("expect_status")) or frozenset()
    detail = {"status": response.status_code, "url": shown}
    if response.status_code not in allowed:
        return Outcome(False, f"{shown} answered HTTP {response.status_code} "
                       f"{response.reason_phrase}".rstrip(),
                       data={"url": shown, "status": response.status_code,
                             "body": response.text[:2000]}, detail=detail)
    pattern = str(options.get("expect_body") or "")
    if pattern:
        body = response.content[:BODY_LIMIT].decode(response.encoding or "utf-8", "replace")
        if re.search(pattern, body) is None:
            return Outcome(False, f"{shown}: the body does not match {pattern!r}",
                           data={"url": shown, "status": response.status_code,
                                 "body": body[:2000]}, detail=detail)
    return Outcome(True, detail=detail)
