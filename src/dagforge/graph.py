"""Adjacency-matrix helpers: DAG checks, thresholding, CPDAGs, converters, graph files.

Convention (used everywhere in dagforge)
----------------------------------------
A graph on ``d`` variables is a ``d x d`` matrix ``W``; ``W[i, j] != 0`` means
the directed edge ``i -> j`` (variable ``i`` is a parent of variable ``j``).
This is the NOTEARS / DAGMA convention of the linear SEM ``X = X W + E``: column
``j`` of ``W`` holds the coefficients of ``X_j`` on its parents. A weighted
matrix is a graph with edge weights; a boolean or 0/1 matrix is a plain graph.

Other tools use other conventions; the converters here are the only places that
translate: networkx (edge ``u -> v``), and lingam's ``B`` (``B[child, parent]``,
i.e. the transpose; see :func:`to_lingam`).

A CPDAG (see :func:`dag_to_cpdag`) is a 0/1 matrix ``C`` where ``C[i, j] = 1``
and ``C[j, i] = 0`` is the directed edge ``i -> j``, and ``C[i, j] = C[j, i] = 1``
is the undirected edge ``i - j``.

Graph files
-----------
* edge list CSV: header ``source,target`` or ``source,target,weight``, one edge
  a row, variables named;
* adjacency CSV: a header row and a first column of variable names, row =
  parent, column = child, entries are weights (0 = no edge).

:func:`read_graph` tells them apart by the header.
"""

from __future__ import annotations

import csv
import heapq
import io
import os
from collections.abc import Sequence
from pathlib import Path

import networkx as nx
import numpy as np
from scipy.sparse.csgraph import connected_components

from dagforge._io import write_text
from dagforge.errors import GraphError
from dagforge.ties import tied_ranks

__all__ = [
    "align_graphs",
    "dag_to_cpdag",
    "default_names",
    "from_lingam",
    "from_networkx",
    "is_dag",
    "read_adjacency",
    "read_edge_list",
    "read_graph",
    "threshold_to_dag",
    "to_lingam",
    "to_networkx",
    "topological_order",
    "write_adjacency",
    "write_edge_list",
]


def _as_square(W: np.ndarray, what: str = "adjacency matrix") -> np.ndarray:
    """Return ``W`` as a 2-D float array, or raise :class:`GraphError` if not square."""
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise GraphError(f"{what} must be square (d x d), got shape {W.shape}")
    return W


def default_names(d: int) -> list[str]:
    """Default variable names ``x0 .. x{d-1}``."""
    return [f"x{i}" for i in range(d)]


# --------------------------------------------------------------------------- DAG checks


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
    A = _as_square(W) != 0
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
    A = _as_square(W) != 0
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
    W = np.array(_as_square(W), dtype=float, copy=True)
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


# --------------------------------------------------------------------------- CPDAG


def dag_to_cpdag(B: np.ndarray) -> np.ndarray:
    """The CPDAG (essential graph) of the Markov equivalence class of the DAG ``B``.

    Keeps the skeleton, orients the v-structures ``a -> c <- b`` (``a``, ``b``
    non-adjacent), then applies Meek's rules R1-R3 until nothing changes (R4 is
    only needed with background knowledge; Meek 1995). Edges left unoriented
    are reversible within the class.

    Returns
    -------
    ndarray of int of shape (d, d)
        ``C[i, j] = 1, C[j, i] = 0``: directed ``i -> j``; ``C[i, j] = C[j, i] = 1``:
        undirected ``i - j``.

    Examples
    --------
    A chain ``0 -> 1 -> 2`` is equivalent to its reversals: all undirected.
    A collider ``0 -> 2 <- 1`` is its own class: all directed.

    >>> dag_to_cpdag(np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]]))
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 1, 0]])
    >>> dag_to_cpdag(np.array([[0, 0, 1], [0, 0, 1], [0, 0, 0]]))
    array([[0, 0, 1],
           [0, 0, 1],
           [0, 0, 0]])
    """
    B = _as_square(B) != 0
    if not is_dag(B):
        raise GraphError("dag_to_cpdag needs a DAG; the graph has a cycle")
    d = B.shape[0]
    adj = B | B.T
    nonadj = ~adj & ~np.eye(d, dtype=bool)
    D = np.zeros((d, d), dtype=bool)  # oriented edges, D[i, j]: i -> j
    # v-structures: a -> c <- b with a, b non-adjacent
    for c in range(d):
        pa = np.flatnonzero(B[:, c])
        if len(pa) < 2:
            continue
        sub = nonadj[np.ix_(pa, pa)]
        compelled = pa[sub.any(axis=1)]
        D[compelled, c] = True
    U = adj & ~D & ~D.T  # undirected edges, symmetric

    changed = True
    while changed:
        changed = False
        Di = D.astype(np.int64)
        # R1: a -> b - c, a and c non-adjacent  =>  b -> c
        r1 = U & ((Di.T @ nonadj.astype(np.int64)) > 0)
        # R2: a -> b -> c and a - c  =>  a -> c
        r2 = U & ((Di @ Di) > 0)
        new = (r1 | r2) & ~(r1 | r2).T
        # R3: a - c -> b, a - e -> b, c and e non-adjacent, a - b  =>  a -> b
        for a, b in zip(*np.nonzero(U & ~new & ~new.T), strict=True):
            cands = np.flatnonzero(U[a] & D[:, b])
            if len(cands) >= 2 and nonadj[np.ix_(cands, cands)].any():
                new[a, b] = True
        new &= ~new.T
        if new.any():
            D |= new
            U &= ~(new | new.T)
            changed = True
    return (D | U).astype(int)


# --------------------------------------------------------------------------- converters


def to_networkx(W: np.ndarray, names: Sequence[str] | None = None) -> nx.DiGraph:
    """A networkx DiGraph with an edge ``names[i] -> names[j]`` (attribute ``weight``)
    for every ``W[i, j] != 0``; every variable is a node, isolated ones included."""
    W = _as_square(W)
    names = list(names) if names is not None else default_names(W.shape[0])
    _check_names(names, W.shape[0])
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
    return np.asarray(_as_square(W)).T.copy()


def from_lingam(B: np.ndarray) -> np.ndarray:
    """dagforge's ``W`` from lingam's ``B[child, parent]``: ``B.T``."""
    return np.asarray(_as_square(B)).T.copy()


def align_graphs(
    W1: np.ndarray, names1: Sequence[str], W2: np.ndarray, names2: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Put two graphs on the union of their node names (first graph's order, then new
    names of the second); nodes missing from one graph get no edges there."""
    names = list(names1) + [n for n in names2 if n not in set(names1)]
    index = {n: k for k, n in enumerate(names)}
    out = []
    for W, nm in ((W1, names1), (W2, names2)):
        W = _as_square(W)
        _check_names(list(nm), W.shape[0])
        M = np.zeros((len(names), len(names)), dtype=float)
        idx = [index[n] for n in nm]
        M[np.ix_(idx, idx)] = W
        out.append(M)
    return out[0], out[1], names


# --------------------------------------------------------------------------- files


def _check_names(names: Sequence[str], d: int) -> None:
    if len(names) != d:
        raise GraphError(f"{len(names)} names given for {d} variables")
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise GraphError(f"duplicate variable name {n!r}")
        seen.add(n)


def _fmt(x: float) -> str:
    return repr(float(x)) if float(x) != int(x) else str(int(x))


def write_edge_list(
    path: str | os.PathLike[str],
    W: np.ndarray,
    names: Sequence[str] | None = None,
    weights: bool = True,
) -> None:
    """Write ``source,target[,weight]`` rows for every ``W[i, j] != 0`` (atomically)."""
    W = _as_square(W)
    names = list(names) if names is not None else default_names(W.shape[0])
    _check_names(names, W.shape[0])
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["source", "target", "weight"] if weights else ["source", "target"])
    for i, j in zip(*np.nonzero(W), strict=True):
        row = [names[i], names[j]]
        wr.writerow([*row, _fmt(W[i, j])] if weights else row)
    write_text(path, buf.getvalue())


def write_adjacency(
    path: str | os.PathLike[str], W: np.ndarray, names: Sequence[str] | None = None
) -> None:
    """Write the adjacency CSV (header and first column = names; row parent, column child)."""
    W = _as_square(W)
    names = list(names) if names is not None else default_names(W.shape[0])
    _check_names(names, W.shape[0])
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["", *names])
    for i, n in enumerate(names):
        wr.writerow([n, *(_fmt(x) for x in W[i])])
    write_text(path, buf.getvalue())


def _read_rows(path: str | os.PathLike[str]) -> list[list[str]]:
    p = Path(path)
    if not p.exists():
        raise GraphError(f"graph file not found: {p}")
    if p.is_dir():
        raise GraphError(f"graph path is a directory, not a file: {p}")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise GraphError(f"graph file is not UTF-8 text: {p}") from e
    rows = [
        [c.strip() for c in r] for r in csv.reader(io.StringIO(text)) if any(c.strip() for c in r)
    ]
    if not rows:
        raise GraphError(f"graph file is empty: {p}")
    return rows


def _parse_float(s: str, where: str) -> float:
    try:
        x = float(s)
    except ValueError as e:
        raise GraphError(f"{where}: {s!r} is not a number") from e
    if not np.isfinite(x):
        raise GraphError(f"{where}: weight {s!r} is not finite")
    return x


def read_edge_list(
    path: str | os.PathLike[str], names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Read a ``source,target[,weight]`` CSV into ``(W, names)``.

    Without ``names`` the nodes are those named by the edges, in order of first
    appearance; with ``names``, every edge must use them (unknown names are an
    error) and ``W`` follows their order. A missing weight column gives weight 1.
    Self-loops, duplicate edges and malformed rows are errors.
    """
    rows = _read_rows(path)
    header = [h.lower() for h in rows[0]]
    if header[:2] != ["source", "target"] or len(header) not in (2, 3) or (
        len(header) == 3 and header[2] != "weight"
    ):
        raise GraphError(
            f"{path}: an edge list needs the header 'source,target' or "
            f"'source,target,weight', got {','.join(rows[0])!r}"
        )
    has_w = len(header) == 3
    edges: list[tuple[str, str, float]] = []
    seen: set[tuple[str, str]] = set()
    for k, r in enumerate(rows[1:], start=2):
        if len(r) != len(header):
            raise GraphError(f"{path}, line {k}: expected {len(header)} fields, got {len(r)}")
        u, v = r[0], r[1]
        if not u or not v:
            raise GraphError(f"{path}, line {k}: empty node name")
        if u == v:
            raise GraphError(f"{path}, line {k}: self-loop on {u!r}")
        if (u, v) in seen:
            raise GraphError(f"{path}, line {k}: duplicate edge {u} -> {v}")
        seen.add((u, v))
        w = _parse_float(r[2], f"{path}, line {k}") if has_w else 1.0
        edges.append((u, v, w))
    if names is None:
        order: dict[str, None] = {}
        for u, v, _ in edges:
            order.setdefault(u)
            order.setdefault(v)
        names = list(order)
    names = list(names)
    _check_names(names, len(names))
    index = {n: k for k, n in enumerate(names)}
    W = np.zeros((len(names), len(names)))
    for u, v, w in edges:
        for n in (u, v):
            if n not in index:
                raise GraphError(f"{path}: edge names unknown node {n!r}")
        W[index[u], index[v]] = w
    return W, names


def read_adjacency(path: str | os.PathLike[str]) -> tuple[np.ndarray, list[str]]:
    """Read an adjacency CSV (row = parent, column = child) into ``(W, names)``.

    The header row (after its first cell) and the first column must list the
    same names in the same order; the matrix must be square with a zero diagonal.
    """
    rows = _read_rows(path)
    cols = rows[0][1:]
    body = rows[1:]
    if len(body) != len(cols):
        raise GraphError(
            f"{path}: adjacency matrix is not square ({len(body)} rows, {len(cols)} columns)"
        )
    _check_names(cols, len(cols))
    W = np.zeros((len(cols), len(cols)))
    for i, r in enumerate(body):
        if len(r) != len(cols) + 1:
            raise GraphError(
                f"{path}: adjacency row {i + 1} has {len(r) - 1} entries, expected {len(cols)}"
            )
        if r[0] != cols[i]:
            raise GraphError(
                f"{path}: row {i + 1} is named {r[0]!r} but column {i + 1} is {cols[i]!r}; "
                "rows and columns must list the same variables in the same order"
            )
        W[i] = [_parse_float(x, f"{path}, row {r[0]!r}") for x in r[1:]]
    bad = np.flatnonzero(np.diag(W))
    if len(bad):
        raise GraphError(f"{path}: self-loop on {cols[bad[0]]!r} (non-zero diagonal)")
    return W, list(cols)


def read_graph(
    path: str | os.PathLike[str], names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Read an edge-list or adjacency CSV, telling them apart by the header.

    A header starting with ``source,target`` is an edge list; anything else is
    read as an adjacency matrix. ``names`` applies to edge lists only.
    """
    rows = _read_rows(path)
    head = [h.lower() for h in rows[0][:2]]
    if head == ["source", "target"]:
        return read_edge_list(path, names)
    W, nm = read_adjacency(path)
    if names is not None:
        unknown = [n for n in nm if n not in set(names)]
        if unknown:
            raise GraphError(f"{path}: unknown node name {unknown[0]!r}")
    return W, nm
