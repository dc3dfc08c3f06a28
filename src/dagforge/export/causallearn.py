"""causal-learn's graph encoding (``GeneralGraph.graph``) and objects, both ways.

The lingam converters (``B[child, parent]``) live in :mod:`dagforge.graph.convert`
and are re-exported by :mod:`dagforge.export`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dagforge.errors import GraphError
from dagforge.export._common import prepare
from dagforge.graph._common import as_square

__all__ = ["from_causallearn", "from_causallearn_graph", "to_causallearn",
           "to_causallearn_graph"]


def to_causallearn(C: np.ndarray) -> np.ndarray:
    """causal-learn's ``GeneralGraph.graph`` encoding of a DAG or CPDAG.

    ``C[i, j] != 0`` and ``C[j, i] == 0`` (the edge ``i -> j``) becomes
    ``G[j, i] = 1, G[i, j] = -1`` (arrowhead at ``j``, tail at ``i``); an undirected
    edge of a CPDAG (``C[i, j]`` and ``C[j, i]`` both non-zero, as
    :func:`dagforge.graph.dag_to_cpdag` writes it) becomes ``G[i, j] = G[j, i] = -1``.

    Returns
    -------
    ndarray of int of shape (d, d)
    """
    A = np.asarray(as_square(C)) != 0
    if np.any(np.diag(A)):
        raise GraphError("self-loop: causal-learn graphs have none")
    directed = A & ~A.T
    undirected = A & A.T
    G = np.zeros(A.shape, dtype=int)
    G[directed.T] = 1
    G[directed] = -1
    G[undirected] = -1
    return G


def from_causallearn(G: np.ndarray) -> np.ndarray:
    """dagforge's 0/1 matrix (DAG, or CPDAG with symmetric undirected pairs) from
    causal-learn's ``GeneralGraph.graph`` encoding (inverse of :func:`to_causallearn`).

    Raises
    ------
    GraphError
        Bidirected edges (``1, 1``) or circle endpoints (``2``, from FCI's PAGs),
        which a DAG or CPDAG cannot express, or entries that are not an endpoint pair.
    """
    G = np.asarray(as_square(G, "causal-learn graph"))
    if not np.all(np.isin(G, (-1, 0, 1, 2))):
        raise GraphError("causal-learn graph entries must be -1, 0, 1 or 2")
    if np.any(np.diag(G) != 0):
        raise GraphError("causal-learn graph has a non-zero diagonal")
    C = np.zeros(G.shape, dtype=int)
    for i, j in zip(*np.triu_indices(G.shape[0], 1), strict=True):
        pair = (int(G[i, j]), int(G[j, i]))
        if pair == (0, 0):
            continue
        if pair == (-1, 1):
            C[i, j] = 1
        elif pair == (1, -1):
            C[j, i] = 1
        elif pair == (-1, -1):
            C[i, j] = C[j, i] = 1
        elif pair == (1, 1):
            raise GraphError(f"bidirected edge between {i} and {j}: not a DAG or CPDAG")
        elif 2 in pair:
            raise GraphError(f"circle endpoint between {i} and {j} (a PAG): not a DAG or "
                             "CPDAG")
        else:
            raise GraphError(f"invalid endpoint pair {pair} between {i} and {j}")
    return C


def to_causallearn_graph(C: np.ndarray, names: Sequence[str] | None = None) -> Any:
    """causal-learn's ``GeneralGraph`` object (nodes named ``names``) of a DAG or CPDAG;
    needs causal-learn installed (``pip install causal-learn``)."""
    C, names = prepare(C, names)
    try:
        from causallearn.graph.Edge import Edge
        from causallearn.graph.Endpoint import Endpoint
        from causallearn.graph.GeneralGraph import GeneralGraph
        from causallearn.graph.GraphNode import GraphNode
    except ImportError as e:
        raise GraphError("causal-learn is not installed (pip install causal-learn)") from e
    nodes = [GraphNode(n) for n in names]
    graph = GeneralGraph(nodes)
    G = to_causallearn(C)
    for i, j in zip(*np.triu_indices(len(names), 1), strict=True):
        pair = (int(G[i, j]), int(G[j, i]))
        if pair == (-1, 1):
            graph.add_edge(Edge(nodes[i], nodes[j], Endpoint.TAIL, Endpoint.ARROW))
        elif pair == (1, -1):
            graph.add_edge(Edge(nodes[j], nodes[i], Endpoint.TAIL, Endpoint.ARROW))
        elif pair == (-1, -1):
            graph.add_edge(Edge(nodes[i], nodes[j], Endpoint.TAIL, Endpoint.TAIL))
    return graph


def from_causallearn_graph(graph: Any) -> tuple[np.ndarray, list[str]]:
    """``(C, names)`` from a causal-learn ``GeneralGraph`` (see :func:`from_causallearn`)."""
    names = [str(n.get_name()) for n in graph.get_nodes()]
    return from_causallearn(np.asarray(graph.graph)), names
