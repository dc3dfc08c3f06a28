"""What every exporter shares: checking ``(W, names)`` before writing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dagforge.errors import GraphError
from dagforge.graph import default_names, from_networkx
from dagforge.graph._common import as_square, check_names

__all__ = ["from_nx_graph", "prepare"]


def prepare(W: np.ndarray, names: Sequence[str] | None) -> tuple[np.ndarray, list[str]]:
    """``W`` as a finite float square matrix and ``names`` as distinct strings (default
    ``x0 ..``), or :class:`GraphError`."""
    W = np.asarray(as_square(W), dtype=float)
    if not np.all(np.isfinite(W)):
        raise GraphError("adjacency contains NaN or infinite values")
    names = [str(n) for n in names] if names is not None else default_names(W.shape[0])
    check_names(names, W.shape[0])
    return W, names


def from_nx_graph(G: Any, what: str) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` of a parsed networkx graph ``G``; an undirected one is an error."""
    if not G.is_directed():
        raise GraphError(f"{what}: the graph is undirected; dagforge reads directed graphs")
    return from_networkx(G)
