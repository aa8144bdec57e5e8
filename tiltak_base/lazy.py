"""Public names imported on first use (PEP 562), the same way in every package."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, names: Mapping[str, str], namespace: dict[str, Any]) -> tuple[
        Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for a package whose public names live in modules.

    ``names`` maps each public name to the module (relative to ``package``) that defines
    it; the module is imported when the name is first used and the value is cached in the
    package's ``namespace`` (its ``globals()``), so later uses cost nothing. A package uses
    it in three lines::

        __all__ = sorted(_LAZY)
        __getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

    >>> getter, listing = lazy_exports("json", {"JSONDecodeError": "decoder"}, {})
    >>> getter("JSONDecodeError").__name__
    'JSONDecodeError'
    >>> getter("nothing")
    Traceback (most recent call last):
    ...
    AttributeError: module 'json' has no attribute 'nothing'
    >>> "JSONDecodeError" in listing()
    True
    """

    def __getattr__(name: str) -> Any:
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module_name}", package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
