"""Applying SQL migrations.

``runner`` is the portable core (checksums, the store's own schema on SQLite or
PostgreSQL); ``engine`` applies an application's migrations to PostgreSQL under
an advisory lock with a history table; ``commands`` is what the CLI calls.
"""
