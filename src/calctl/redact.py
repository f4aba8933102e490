"""Masking credentials in anything calctl shows or records.

One place for it: errors, ``config show``, events and the audit store all go through
:func:`mask_dsn` (text that may hold a URL or a libpq ``key=value`` string) or
:func:`mask_secrets` (text that may also repeat pieces of a URL it was given, such as
a driver's error message).

A password with a raw ``@`` (``postgresql://u:p@ssPW@host/db``) is the case that
matters: libpq splits it at the first ``@``, so the rest of the password turns up as
the *host* in its messages. The user part here ends at the *last* ``@`` before the
host (before any ``?query`` or ``#fragment``), so every byte of it is masked.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://userinfo@ — greedy up to the last "@" before whitespace, "?" or "#".
_URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>[^\s?#]*)@", re.I)
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


def _mask_userinfo(match: re.Match[str]) -> str:
    userinfo = match.group("userinfo")
    if ":" not in userinfo:
        return match.group(0)  # a user name alone is no secret
    user = userinfo.split(":", 1)[0]
    return f"{match.group('scheme')}{user}:{MASK}@"


def mask_dsn(text: str) -> str:
    """Replace every password in ``text`` — in a URL's user part, or a libpq
    ``password=`` — with ``***``."""
    if "@" in text:
        text = _URL_USERINFO.sub(_mask_userinfo, text)
    if "=" in text:
        text = _KV_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return text


def has_credentials(text: str) -> bool:
    """Does ``text`` hold a password (in a URL or a libpq ``password=``)?"""
    return mask_dsn(text) != text


def url_passwords(url: str) -> list[str]:
    """The passwords of the URLs in ``url`` (to mask wherever a driver repeats them)."""
    found: list[str] = []
    for match in _URL_USERINFO.finditer(url):
        userinfo = match.group("userinfo")
        if ":" in userinfo:
            password = userinfo.split(":", 1)[1]
            if password:
                found.append(password)
    for match in _KV_PASSWORD.finditer(url):
        found.append(match.group(2).strip("'"))
    return found


def mask_secrets(text: str, *urls: str | None) -> str:
    """:func:`mask_dsn`, and also every piece of the passwords of ``urls`` that
    ``text`` repeats — whole, or the part after its first ``@`` that libpq took for
    the host (``failed to resolve host 'ssPW@127.0.0.1'``)."""
    text = mask_dsn(text)
    for url in urls:
        if not url:
            continue
        for password in url_passwords(url):
            if len(password) >= 4:  # shorter ones would mask ordinary words too
                text = text.replace(password, MASK)
            if "@" in password:
                # libpq read "p" as the password and "ssPW@host" as the host
                tail = password.split("@", 1)[1]
                text = text.replace(tail + "@", MASK + "@")
    return text
