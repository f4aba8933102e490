"""calctl: keeps a software project healthy on its own."""

from __future__ import annotations

__version__ = "0.1.0"
