"""pglast's parser extension, loaded without pglast's AST classes and enums.

calctl calls only the parser's JSON, split and scan functions. Importing
``pglast.parser`` the usual way also executes ``pglast.ast`` (hundreds of node
classes) and ``pglast.enums`` (thousands of enum members): ~25 ms of a ~35 ms
import, paid by every process of a cold ``migrate order``. The extension binds
those two modules when it loads and uses them only to build AST objects, so
:func:`parser` puts a placeholder for each in ``sys.modules`` first; the
placeholder imports the real module the first time anything reads an attribute
of it and from then on behaves as that module. Code that uses ``pglast.ast``
works unchanged; it pays the import when it first needs it.
"""

from __future__ import annotations

import sys
import types
from typing import Any

_DEFERRED = ("pglast.ast", "pglast.enums")
_parser: Any = None


class _Deferred(types.ModuleType):
    """Stands in for a module until one of its attributes is read."""

    def _load(self) -> types.ModuleType:
        import importlib

        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        real = importlib.import_module(name)  # binds itself on its package, too
        # whoever bound the placeholder (the parser extension) now sees the real module
        self.__dict__.update(real.__dict__)
        return real

    def __getattr__(self, attr: str) -> Any:  # only for attributes not yet copied in
        return getattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())


def parser() -> Any:
    """The ``pglast.parser`` module (loaded once)."""
    global _parser
    if _parser is None:
        placed = [name for name in _DEFERRED if name not in sys.modules]
        for name in placed:
            placeholder = _Deferred(name)
            placeholder.__spec__ = None  # the import system reads it; None = no loader
            sys.modules[name] = placeholder
        try:
            from pglast import parser as loaded
        except BaseException:
            for name in placed:  # a failed load leaves no placeholder behind
                if isinstance(sys.modules.get(name), _Deferred):
                    del sys.modules[name]
            raise
        package = sys.modules["pglast"]
        for name in placed:  # `import pglast; pglast.ast.X` as without the placeholders
            setattr(package, name.rpartition(".")[2], sys.modules[name])
        _parser = loaded
    return _parser
