"""Patches: parse, validate, snapshot, journal, write atomically, verify, roll back, recover.

The CLI (``calctl.cli.patch``) calls :func:`calctl.patch.apply.apply_patch`,
:func:`calctl.patch.rollback.rollback_patch`, :func:`calctl.patch.recover.recover`
and the read-only queries in :mod:`calctl.patch.history`. Nothing here prints.
"""
