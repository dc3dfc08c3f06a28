"""DAG checks and thresholding: :func:`is_dag`, :func:`topological_order`,
:func:`threshold_to_dag` (``W[i, j] != 0`` is the edge ``i -> j``)."""

from __future__ import annotations

import heapq

import numpy as np
from scipy.sparse.csgraph import connected_components

from dagforge.errors import GraphError
from dagforge.graph._common import as_square
from dagforge.ties import tied_ranks

__all__ = ["is_dag", "threshold_to_dag", "topological_order"]


def is_dag(W: np.ndarray) -> bool:
    """True if the graph of ``W`` (``W[i, j] != 0`` is ``i -> j``) has no directed cycle.

    A self-loop (non-zero diagonal) is a cycle. Runs in O(d + edges) with
    strongly connected components: a graph is acyclic iff every component is a
    single node without a self-loop.

    Examples
    --------
    >>> is_dag(np.array([[0, 1], [0, 0]]))
    True
    >>> is_dag(np.array([[0, 1], [1, 0]]))
    False
    """
    A = as_square(W) != 0
    if A.shape[0] == 0:
        return True
    if np.any(np.diag(A)):
        return False
    n_comp, _ = connected_components(A, directed=True, connection="strong")
    return bool(n_comp == A.shape[0])


def topological_order(W: np.ndarray) -> list[int]:
    """A topological order of the DAG ``W``: every edge ``i -> j`` has ``i`` before ``j``.

    Kahn's algorithm, taking the smallest available index first, so the order is
    deterministic. Raises :class:`GraphError` if ``W`` has a cycle.

    Examples
    --------
    >>> topological_order(np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0]]))
    [2, 1, 0]
    """
    A = as_square(W) != 0
    d = A.shape[0]
    indeg = A.sum(axis=0).astype(int)
    children = [np.flatnonzero(A[i]).tolist() for i in range(d)]
    heap = [i for i in range(d) if indeg[i] == 0]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        i = heapq.heappop(heap)
        order.append(i)
        for j in children[i]:
            indeg[j] -= 1
            if indeg[j] == 0:
                heapq.heappush(heap, j)
    if len(order) != d:
        raise GraphError("graph has a directed cycle, so it has no topological order")
    return order


def _reaches(children: list[set[int]], src: int, dst: int) -> bool:
    """Whether a directed path leads from ``src`` to ``dst`` (iterative DFS)."""
    stack, seen = [src], {src}
    while stack:
        u = stack.pop()
        for v in children[u]:
            if v == dst:
                return True
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return False


def threshold_to_dag(
    W: np.ndarray, threshold: float = 0.0, required: np.ndarray | None = None
) -> np.ndarray:
    """Threshold a weighted matrix, then break every remaining cycle; the result is a DAG.

    1. Entries with ``|W[i, j]| < threshold`` (unless ``required``) and the diagonal
       are set to 0.
    2. While the graph has a cycle, find one and remove its weakest edge that is not
       required (smallest ``|W[i, j]|``; weights equal up to a relative 1e-9 are ties,
       broken by the smaller ``(i, j)``).

    Step 2 removes only edges that lie on cycles, so on a matrix that is already
    acyclic after step 1 the result is just the thresholded matrix.

    Parameters
    ----------
    W : ndarray of shape (d, d)
        Weighted adjacency, ``W[i, j]`` is the weight of ``i -> j``.
    threshold : float
        Edges with absolute weight below it are dropped.
    required : bool ndarray of shape (d, d), optional
        Edges that are kept whatever their weight and never removed to break a
        cycle (prior knowledge, see :mod:`dagforge.knowledge`); they must form a
        DAG. A required edge of weight exactly 0 stays 0 (no edge in the result).

    Returns
    -------
    ndarray of shape (d, d)
        The kept weights (float); ``is_dag`` of it is always True.

    Examples
    --------
    A 2-cycle 0 <-> 1 whose weaker edge goes, and a weak edge under the threshold:

    >>> W = np.array([[0, 0.9, 0.1], [0.5, 0, 0], [0, 0, 0]])
    >>> threshold_to_dag(W, 0.3)
    array([[0. , 0.9, 0. ],
           [0. , 0. , 0. ],
           [0. , 0. , 0. ]])
    """
    W = np.array(as_square(W), dtype=float, copy=True)
    if not np.all(np.isfinite(W)):
        raise GraphError("weighted adjacency contains NaN or infinite values")
    if threshold < 0:
        raise GraphError(f"threshold must be >= 0, got {threshold}")
    req = np.zeros(W.shape, dtype=bool) if required is None else np.asarray(required, bool)
    if req.shape != W.shape:
        raise GraphError(f"required has shape {req.shape}, W has {W.shape}")
    if not is_dag(req):
        raise GraphError("the required edges form a cycle")
    np.fill_diagonal(W, 0.0)
    W[(np.abs(W) < threshold) & ~req] = 0.0
    A = W != 0
    n_comp, labels = connected_components(A, directed=True, connection="strong")
    if n_comp == A.shape[0]:
        return W
    # Only edges inside a strongly connected component lie on cycles. Scanning them
    # from the weakest up and removing each one that still closes a cycle removes,
    # every time, the weakest edge of some remaining cycle: any weaker edge of that
    # cycle was scanned earlier, when the cycle already existed, and so was removed.
    # Required edges are skipped: every cycle has another edge, as they are acyclic.
    ii, jj = np.nonzero(A & (labels[:, None] == labels[None, :]))
    children = [set() for _ in range(A.shape[0])]
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        children[i].add(j)
    # weights equal up to rounding count as ties, broken by (i, j) (dagforge.ties)
    for k in np.lexsort((jj, ii, tied_ranks(np.abs(W[ii, jj])))):
        i, j = int(ii[k]), int(jj[k])
        if not req[i, j] and _reaches(children, j, i):
            children[i].discard(j)
            W[i, j] = 0.0
    return W
