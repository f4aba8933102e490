from __future__ import annotations

import re
from collections.abc import Iterator

from calctl.sql.rules.statement import FileScope, Finding, StatementRule
from calctl.sql.rules.textpos import line_column

MAX_BYTES = 63  # NAMEDATALEN - 1
# a cheap first look: a run of more than 63 bytes of identifier, or a long quoted one
_LONG = re.compile(rb'[\w$\x80-\xff]{64,}|"(?:[^"]|""){64,}"')


class IdentifierTooLong(StatementRule):
    """An identifier longer than 63 bytes, which PostgreSQL truncates.

    Problem: PostgreSQL cuts every name to 63 bytes (``NAMEDATALEN`` - 1) with only a
    NOTICE: two long names that share their first 63 bytes become the same name,
    and the object's name in the catalog is not the one in the migration (nor in
    the code that looks it up).
    Fix: a name of at most 63 bytes (bytes: a non-ASCII letter counts 2 or more).
    Fires on every occurrence, quoted or not, of tables, columns, indexes,
    constraints, functions… in any statement, as squawk does; quiet inside string
    literals, comments and function bodies. Any PostgreSQL version.
    """

    code = "CAL050"
    name = "identifier-too-long"
    severity = "warning"
    squawk = ("identifier-too-long",)
    example = ("CREATE TABLE customer_subscription_renewal_reminder_notification_delivery_attempts "
               "(id bigint PRIMARY KEY);\n")

    def check_file(self, scope: FileScope) -> Iterator[Finding]:
        if not _LONG.search(scope.source.data):
            return
        text = scope.source.text
        for start, token in _identifiers(scope):
            written = text[start:start + token]
            name = written[1:-1].replace('""', '"') if written.startswith('"') else written
            if len(name.encode("utf-8")) > MAX_BYTES:
                line, column = line_column(text, start)
                yield Finding(line, column, f"{name} is longer than {MAX_BYTES} bytes: "
                                            "PostgreSQL truncates it",
                              f"Use a name of at most {MAX_BYTES} bytes.")


def _identifiers(scope: FileScope) -> Iterator[tuple[int, int]]:
    """(character offset, length) of each identifier token of the file: scanned whole, or
    statement by statement when the scanner rejects the file (those it rejects are
    CAL006's)."""
    from calctl.sql.extract.core import load_parser

    parser = load_parser()
    text = scope.source.text
    try:
        pieces = [(0, parser.scan(text))]
    except parser.ParseError:
        pieces = []
        for stmt in scope.statements:
            start = stmt.char()
            try:
                pieces.append((start, parser.scan(text[start:stmt.char_end])))
            except parser.ParseError:
                continue
    for base, tokens in pieces:
        for token in tokens:
            if token.name == "IDENT":
                yield base + token.start, token.end + 1 - token.start
