"""Name resolution across files: which file provides each object another file uses
(:func:`resolve`). ``model`` holds what it produces, ``resolution`` the walk over the
history, ``columns`` where a column's uses bind as its table changes, ``providers``
which file provides an object several files create."""

from __future__ import annotations

from calctl.sql.names.model import SOFT, Duplicate, Edge, Missing, Resolution
from calctl.sql.names.resolution import extension_of_name, resolve

__all__ = ["SOFT", "Duplicate", "Edge", "Missing", "Resolution", "extension_of_name", "resolve"]
