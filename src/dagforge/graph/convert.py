"""Converters to and from other tools' graph conventions: networkx (edge ``u -> v``)
and lingam (``B[child, parent]``, the transpose), and aligning two graphs on names."""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from dagforge.errors import GraphError
from dagforge.graph._common import as_square, check_names, default_names

__all__ = ["align_graphs", "from_lingam", "from_networkx", "to_lingam", "to_networkx"]


def to_networkx(W: np.ndarray, names: Sequence[str] | None = None) -> nx.DiGraph:
    """A networkx DiGraph with an edge ``names[i] -> names[j]`` (attribute ``weight``)
    for every ``W[i, j] != 0``; every variable is a node, isolated ones included."""
    W = as_square(W)
    names = list(names) if names is not None else default_names(W.shape[0])
    check_names(names, W.shape[0])
    G = nx.DiGraph()
    G.add_nodes_from(names)
    for i, j in zip(*np.nonzero(W), strict=True):
        G.add_edge(names[i], names[j], weight=float(W[i, j]))
    return G


def from_networkx(
    G: nx.DiGraph, nodes: Sequence[str] | None = None, weight: str = "weight"
) -> tuple[np.ndarray, list[str]]:
    """``(W, names)`` from a networkx DiGraph; ``W[i, j]`` is the edge's ``weight``
    attribute (1.0 when missing). ``nodes`` fixes the order (default: ``G``'s order)."""
    names = [str(n) for n in (nodes if nodes is not None else G.nodes)]
    index = {n: k for k, n in enumerate(names)}
    W = np.zeros((len(names), len(names)))
    for u, v, data in G.edges(data=True):
        u, v = str(u), str(v)
        for n in (u, v):
            if n not in index:
                raise GraphError(f"edge names node {n!r}, which is not among the nodes")
        if u == v:
            raise GraphError(f"self-loop on {u!r}")
        W[index[u], index[v]] = float(data.get(weight, 1.0))
    return W, names


def to_lingam(W: np.ndarray) -> np.ndarray:
    """lingam's ``B`` (``B[child, parent]``, ``x = B x + e``) from dagforge's ``W``: ``W.T``."""
    return np.asarray(as_square(W)).T.copy()


def from_lingam(B: np.ndarray) -> np.ndarray:
    """dagforge's ``W`` from lingam's ``B[child, parent]``: ``B.T``."""
    return np.asarray(as_square(B)).T.copy()


def align_graphs(
    W1: np.ndarray, names1: Sequence[str], W2: np.ndarray, names2: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Put two graphs on the union of their node names (first graph's order, then new
    names of the second); nodes missing from one graph get no edges there."""
    names = list(names1) + [n for n in names2 if n not in set(names1)]
    index = {n: k for k, n in enumerate(names)}
    out = []
    for W, nm in ((W1, names1), (W2, names2)):
        W = as_square(W)
        check_names(list(nm), W.shape[0])
        M = np.zeros((len(names), len(names)), dtype=float)
        idx = [index[n] for n in nm]
        M[np.ix_(idx, idx)] = W
        out.append(M)
    return out[0], out[1], names
