from __future__ import annotations

from calctl.sql.facts import Note
from calctl.sql.observations import ENUM_VALUE_USED, NON_TRANSACTIONAL, Observation
from calctl.sql.rules.base import ObservationRule


class NonTransactional(ObservationRule):
    """A statement that cannot run inside a transaction, in a file not marked for it.

    Problem: ``CREATE INDEX CONCURRENTLY``, ``VACUUM``, ``REINDEX CONCURRENTLY`` and
    using an enum value added by ``ALTER TYPE … ADD VALUE`` in the same
    transaction fail when a tool runs the file in one transaction, as most do.
    Fix: put the statement in a file of its own marked ``-- calctl: no-transaction``
    (or named ``*.autocommit.sql``); calctl then runs it outside a transaction.
    squawk's ban-concurrent-index-creation-in-transaction is this rule for ``CREATE
    INDEX CONCURRENTLY``; squawk fires it only inside the file's own ``BEGIN`` or with
    ``--assume-in-transaction``, calctl in every unmarked file, since most tools run a
    file in one transaction (calctl itself notices the statement and runs the file
    outside one), and on the other statements above too.
    """

    code = "CAL007"
    name = "non-transactional-statement"
    severity = "warning"
    scope = "lint"
    observes = frozenset({NON_TRANSACTIONAL, ENUM_VALUE_USED})
    squawk = ("ban-concurrent-index-creation-in-transaction",)
    example = ("BEGIN;\nCREATE INDEX CONCURRENTLY accounts_email ON accounts (email);\n"
               "COMMIT;\n")

    @classmethod
    def note(cls, seen: Observation) -> Note:
        what = seen.subject
        if seen.kind == ENUM_VALUE_USED:
            what = f"ALTER TYPE … ADD VALUE '{what}' (used on line {seen.related_line})"
        return cls.make_note(
            seen,
            f"{what} cannot run inside a transaction block",
            "calctl runs this file statement by statement outside a transaction; mark it "
            "with `-- calctl: no-transaction` (or put the statement in its own file) so "
            "every tool does the same.",
        )
