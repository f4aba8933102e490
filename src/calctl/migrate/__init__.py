"""Applying SQL migrations: the runner (history, checksums) and, later, the engine."""
