"""orjson's ``loads`` when it is installed, else the json module's (same values).

orjson is a dependency; the fallback keeps calctl working on a platform without
an orjson wheel, only slower."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

loads: Callable[[str], Any]
FastJSONError: type[ValueError]
try:
    from orjson import JSONDecodeError as FastJSONError
    from orjson import loads
except ImportError:  # pragma: no cover - orjson ships wheels for every supported platform
    FastJSONError = json.JSONDecodeError
    loads = json.loads
