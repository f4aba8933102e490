"""Placeholder replaced when the migrate and patch commands land."""
