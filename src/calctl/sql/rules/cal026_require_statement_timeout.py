from __future__ import annotations

from calctl.sql.rules.cal025_require_lock_timeout import RequireLockTimeout


class RequireStatementTimeout(RequireLockTimeout):
    """A file whose DDL runs without ``SET statement_timeout`` first.

    Problem: a statement that runs far longer than expected (a rewrite, a scan of a
    table bigger than in staging) holds its locks all that time.
    Fix: ``SET statement_timeout = '5s';`` (or what the migration needs) before the
    first DDL statement; the fix adds it at the top. Reported once per file, at the
    same statement CAL025 reports, as squawk does. ``calctl migrate apply`` sets it
    when ``[migrate] statement_timeout`` is configured.
    """

    code = "CAL026"
    name = "require-statement-timeout"
    severity = "warning"
    squawk = ("require-statement-timeout",)
    example = "ALTER TABLE accounts ADD COLUMN note text;\n"
    parameter = "statement_timeout"
    setting = "SET statement_timeout = '5s';\n"
    risk = "may run long while holding its locks"

    def hint(self) -> str:
        return ("Add SET statement_timeout = '5s'; (or what the migration needs) at the top "
                "of the file, or set [migrate] statement_timeout for `calctl migrate "
                "apply`.")
