"""Package faces that import their members on first use (PEP 562), so that importing
one building block of a package does not import the whole package."""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any


def lazy_exports(package: str, members: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that loads ``name`` from ``package + "." + members[name]``."""

    def __getattr__(name: str) -> Any:
        if name not in members:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{members[name]}"), name)

    return __getattr__
