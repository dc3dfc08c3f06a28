"""Helpers every graph module shares: the square check and variable names."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dagforge.errors import GraphError

__all__ = ["as_square", "check_names", "default_names", "format_weight"]


def as_square(W: np.ndarray, what: str = "adjacency matrix") -> np.ndarray:
    """Return ``W`` as a 2-D array, or raise :class:`GraphError` if not square."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise GraphError(f"{what} must be square (d x d), got shape {W.shape}")
    return W


def default_names(d: int) -> list[str]:
    """Default variable names ``x0 .. x{d-1}``."""
    return [f"x{i}" for i in range(d)]


def check_names(names: Sequence[str], d: int) -> None:
    """Raise :class:`GraphError` unless ``names`` are ``d`` distinct names."""
    if len(names) != d:
        raise GraphError(f"{len(names)} names given for {d} variables")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise GraphError(f"duplicate variable name {n!r}")
        seen.add(n)


def format_weight(x: float) -> str:
    """A weight as text that reads back exactly: ``2`` for integers, else ``repr``."""
    return repr(float(x)) if float(x) != int(x) else str(int(x))
