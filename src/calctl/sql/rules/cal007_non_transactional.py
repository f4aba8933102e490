from __future__ import annotations

from calctl.sql.rules.base import NoteRule


class NonTransactional(NoteRule):
    """A statement that cannot run inside a transaction, in a file not marked for it.

    Problem: ``CREATE INDEX CONCURRENTLY``, ``VACUUM``, ``REINDEX CONCURRENTLY`` and
    using an enum value added by ``ALTER TYPE … ADD VALUE`` in the same
    transaction fail when a tool runs the file in one transaction, as most do.
    Fix: put the statement in a file of its own marked ``-- calctl: no-transaction``
    (or named ``*.autocommit.sql``); calctl then runs it outside a transaction.
    """

    code = "CAL007"
    name = "non-transactional-statement"
    severity = "warning"
    scope = "lint"
