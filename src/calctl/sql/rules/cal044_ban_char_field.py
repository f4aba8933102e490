from __future__ import annotations

from calctl.sql.rules.column_types import ColumnTypeRule


class BanCharField(ColumnTypeRule):
    """A ``char(n)`` / ``character(n)`` column (blank-padded, fixed length).

    Problem: ``character`` pads every value with spaces to its length, compares
    ignoring them and is no faster than ``text``: it is almost always a mistake
    for ``varchar`` or ``text``.
    Fix: use ``text`` (or ``varchar``). Read, as squawk does, in ``CREATE TABLE``
    columns, ``ADD COLUMN`` and ``ALTER COLUMN … TYPE`` (``"char"``, the one-byte
    internal type, too, as squawk); quiet for ``varchar`` and ``text``. Any PostgreSQL version.
    """

    code = "CAL044"
    name = "ban-char-field"
    severity = "warning"
    squawk = ("ban-char-field",)
    example = "CREATE TABLE countries (code char(2) PRIMARY KEY);\n"
    names = frozenset({"bpchar", "char", "character", "nchar"})
    message = "{type} pads its values with spaces to a fixed length"
    hint = "Use text (or varchar)."
