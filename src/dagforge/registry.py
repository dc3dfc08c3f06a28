"""One shape for every extension point's registry: a name -> entry mapping.

:class:`Registry` is a ``dict`` (iterate it, look entries up, ``pop`` one in a test)
with the two operations every registry needs: :meth:`Registry.register`, refusing a
taken name unless asked to replace it, and :meth:`Registry.get_entry`, whose unknown
name is a one-line :class:`~dagforge.errors.ConfigError` naming the known ones.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from dagforge.errors import ConfigError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(dict[str, T], Generic[T]):
    """Registered entries of one kind (``kind`` names it in error messages)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    def register(self, name: str, entry: T, *, replace: bool = False) -> T:
        """Add ``entry`` as ``name``; a taken name is an error unless ``replace``."""
        if name in self and not replace:
            raise ConfigError(f"{self.kind} {name!r} is already registered")
        self[name] = entry
        return entry

    def get_entry(self, name: str) -> T:
        """The entry ``name``; an unknown name is a one-line ConfigError."""
        try:
            return self[name]
        except (KeyError, TypeError):
            raise ConfigError(f"unknown {self.kind} {name!r}; choose one of "
                              f"{list(self)}") from None
