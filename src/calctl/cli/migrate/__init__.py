"""``calctl migrate``: one Typer sub-app (:mod:`calctl.cli.migrate.group`), one module per
command, and what they share (``_common``, ``_render``, ``_targets``, ``_formats``).

Importing this package imports no Typer: the modules the fast path of ``migrate order``
uses (:mod:`calctl.cli.quick`) live here too.
"""
