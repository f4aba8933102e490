"""Masking credentials in anything calctl shows or records.

One place for it: errors, ``config show``, events and the audit store all go through
:func:`mask_dsn` (text that may hold a URL or a libpq ``key=value`` string) or
:func:`mask_secrets` (text that may also repeat pieces of a URL it was given, such as
a driver's error message).

A password with a raw ``@`` (``postgresql://u:p@ssPW@host/db``) is the case that
matters: libpq splits it at the first ``@``, so the rest of the password turns up as
the *host* in its messages. The user part here ends at the *last* ``@`` before the
host (before any ``?query`` or ``#fragment``), so every byte of it is masked.

``http://h:8000/x?to=ops@example.com`` and ``postgresql://app:2024/Winter@db/app``
have the same shape: a port and a path holding an "@", or a password starting with
digits and a "/". The scheme decides: a database URL's path is a database name and
its query libpq options, where an "@" has no business, so there it is a password
(masking too much is the safe mistake); a web URL's path and query often hold one.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://userinfo@ — greedy: up to the last "@" of the whitespace-delimited token.
URL_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<userinfo>\S*)@", re.I)
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)
_CONNINFO = re.compile(r"\w+\s*=\s*\S.*", re.S)
_KV_SPACED = re.compile(r"(password\s*=\s*)(?!')(\S+(?:\s+[^\s=]+(?=\s|$))+)", re.I)
# "host:8000/path?to=ops@example.com": a port and a path, not a password
_PORT_AND_PATH = re.compile(r"\d+[/?#]")
# schemes (before any "+driver") whose URLs name a database server
_DATABASE_SCHEMES = frozenset({
    "postgres", "postgresql", "pgsql", "psql", "cockroachdb", "mysql", "mariadb", "redis",
    "rediss", "mongodb", "mongodb+srv", "amqp", "amqps", "mssql", "sqlserver", "oracle",
    "clickhouse"})


def _is_database(scheme: str) -> bool:
    name = scheme.lower().removesuffix("://")
    return name in _DATABASE_SCHEMES or name.split("+", 1)[0] in _DATABASE_SCHEMES


def split_userinfo(userinfo: str, scheme: str = "") -> tuple[str, str] | None:
    """(user, password) when ``userinfo`` is one; None when the "@" belongs to a path
    or query (``https://h/x?to=a@b``) or there is no password."""
    if ":" not in userinfo:
        return None
    user, password = userinfo.split(":", 1)
    if any(c in user for c in "/?#"):
        return None
    if _PORT_AND_PATH.match(password) and not _is_database(scheme):
        return None
    return user, password


def _mask_userinfo(match: re.Match[str]) -> str:
    parts = split_userinfo(match.group("userinfo"), match.group("scheme"))
    if parts is None:
        # not a user part; a URL further on in it may still have one
        return match.group("scheme") + mask_dsn(match.group("userinfo")) + "@"
    return f"{match.group('scheme')}{parts[0]}:{MASK}@"


_SCHEME = re.compile(r"\s*[a-z][a-z0-9+.-]*://", re.I)


def _spaced_url(text: str) -> tuple[str, str, str, str] | None:
    """(scheme, user, password, rest) when ``text`` as a whole is one URL whose user
    part holds a space (``postgresql://u:Sec ret@h/db``: libpq refuses it, quoting the
    password back); a URL inside other text ends at a space, so only a whole value
    can be read this way."""
    start = _SCHEME.match(text)
    at = text.rfind("@")
    if start is None or at < start.end() or "\n" in text.strip():
        return None
    userinfo, rest = text[start.end():at], text[at + 1:]
    if not any(c.isspace() for c in userinfo) or any(c.isspace() for c in rest.rstrip()):
        return None
    parts = split_userinfo(userinfo, start.group(0).strip())
    return None if parts is None else (start.group(0), parts[0], parts[1], rest)


def mask_dsn(text: str) -> str:
    """Replace every password in ``text`` — in a URL's user part, or a libpq
    ``password=`` — with ``***``."""
    spaced = _spaced_url(text)
    if spaced is not None:
        return f"{spaced[0]}{spaced[1]}:{MASK}@{spaced[3]}"
    if "@" in text:
        text = URL_USERINFO.sub(_mask_userinfo, text)
    if "=" in text:
        if _CONNINFO.fullmatch(text.strip()):
            # a whole libpq string: the words after password= that are no key=value
            # pair are the rest of a password with a space ("password=Sec ret")
            text = _KV_SPACED.sub(lambda m: m.group(1) + MASK, text)
        text = _KV_PASSWORD.sub(lambda m: m.group(1) + MASK, text)
    return text


def has_credentials(text: str) -> bool:
    """Does ``text`` hold a password (in a URL or a libpq ``password=``)?"""
    return mask_dsn(text) != text


def url_passwords(url: str) -> list[str]:
    """The passwords of the URLs in ``url`` (to mask wherever a driver repeats them)."""
    found: list[str] = []
    spaced = _spaced_url(url)
    if spaced is not None:
        found.append(spaced[2])
    for match in URL_USERINFO.finditer(url):
        parts = split_userinfo(match.group("userinfo"), match.group("scheme"))
        if parts is not None and parts[1]:
            found.append(parts[1])
    for match in _KV_PASSWORD.finditer(url):
        found.append(match.group(2).strip("'"))
        # "password=Sec ret": libpq ends the value at the space and complains about
        # "ret"; a word that is no key=value pair is a piece of the password
        if "://" not in url:
            found += [w for w in url[match.end():].split() if "=" not in w]
    return found


def _pieces(password: str) -> list[str]:
    """The password, and the pieces of it a URL parser may have cut off at a
    separator and shown as a host, port, database or query (longest first)."""
    pieces = {password}
    for index, char in enumerate(password):
        if char in "@/?#:&= ":
            pieces.add(password[index + 1:])
            pieces.add(password[:index])
    pieces.update(re.split(r"[@/?#:&=\s]", password))
    return sorted((p for p in pieces if p), key=len, reverse=True)


def mask_secrets(text: str, *urls: str | None) -> str:
    """:func:`mask_dsn`, and also every piece of the passwords of ``urls`` that
    ``text`` repeats — whole, or the part after a raw ``@`` that libpq took for the
    host (``failed to resolve host 'ssPW@127.0.0.1'``)."""
    text = mask_dsn(text)
    for url in urls:
        for password in url_passwords(url or ""):
            for piece in _pieces(password):
                if len(piece) >= 3:
                    text = text.replace(piece, MASK)
                else:  # short: only where it stands as a value a parser echoed back
                    for quoted in (f"'{piece}'", f'"{piece}"', f"'{piece}@", f'"{piece}@'):
                        text = text.replace(quoted, quoted.replace(piece, MASK))
    return text


def normalized_url(url: str) -> str:
    """``url`` with the user part of a URL percent-encoded as :func:`mask_dsn` reads it
    (up to the last "@"), so libpq does not take the rest of a password for the host."""
    from urllib.parse import quote

    def encode(match: re.Match[str]) -> str:
        parts = split_userinfo(match.group("userinfo"), match.group("scheme"))
        if parts is None:
            return match.group(0)
        return (f"{match.group('scheme')}{quote(parts[0], safe='%')}:"
                f"{quote(parts[1], safe='%')}@")

    return URL_USERINFO.sub(encode, url, count=1) if "://" in url else url
