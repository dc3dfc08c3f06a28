"""CPDAGs: the Markov equivalence class of a DAG, by v-structures and Meek's rules, and
the interventional equivalence class of a DAG given the targets of the experiments.

A CPDAG is a 0/1 matrix ``C`` where ``C[i, j] = 1`` and ``C[j, i] = 0`` is the
directed edge ``i -> j``, and ``C[i, j] = C[j, i] = 1`` the undirected edge ``i - j``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from dagforge.errors import GraphError
from dagforge.graph._common import as_square
from dagforge.graph.dag import is_dag

__all__ = ["dag_to_cpdag", "dag_to_icpdag"]


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
    B = as_square(B) != 0
    if not is_dag(B):
        raise GraphError("dag_to_cpdag needs a DAG; the graph has a cycle")
    d = B.shape[0]
    adj = B | B.T
    nonadj = ~adj & ~np.eye(d, dtype=bool)
    D = _v_structures(B, nonadj)
    U = adj & ~D & ~D.T  # undirected edges, symmetric
    D, U = _apply_meek_rules(D, U, nonadj)
    return (D | U).astype(int)


def dag_to_icpdag(B: np.ndarray, targets: Iterable[Sequence[int]],
                  oriented: np.ndarray | None = None) -> np.ndarray:
    """The interventional essential graph of the DAG ``B`` under experiments whose
    targets (variable indices) are ``targets``, one set per regime.

    Two DAGs are interventionally Markov equivalent when they have the same skeleton
    and v-structures and, for every target set ``T``, orient alike each edge with
    exactly one end in ``T`` (Hauser & Bühlmann 2012, for a family of targets that
    includes the observational one; an edge cut by an experiment is oriented by it).
    So: the CPDAG's v-structures, plus the edges cut by some target set oriented as
    in ``B``, closed under Meek's rules R1-R4 (R4 is needed with such known
    orientations; Meek 1995). With no targets it is :func:`dag_to_cpdag`.
    ``oriented`` (bool, d x d) adds orientations known otherwise (background
    knowledge: an edge of ``B`` whose reverse is forbidden), closed the same way.

    Returns
    -------
    ndarray of int of shape (d, d)
        As :func:`dag_to_cpdag`: directed ``i -> j`` where ``C[i, j] = 1, C[j, i] = 0``.

    Examples
    --------
    The chain ``0 -> 1 -> 2``, reversible as a whole from observation alone, is
    oriented by an experiment on ``1``: the edge ``0 - 1`` is cut, and R1 then
    orients ``1 -> 2``.

    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> dag_to_icpdag(chain, [[1]])
    array([[0, 1, 0],
           [0, 0, 1],
           [0, 0, 0]])
    >>> dag_to_icpdag(chain, [[0, 1]])  # 0 and 1 together: only 1 - 2 is cut
    array([[0, 1, 0],
           [1, 0, 1],
           [0, 0, 0]])
    """
    B = as_square(B) != 0
    if not is_dag(B):
        raise GraphError("dag_to_icpdag needs a DAG; the graph has a cycle")
    d = B.shape[0]
    adj = B | B.T
    nonadj = ~adj & ~np.eye(d, dtype=bool)
    D = _v_structures(B, nonadj)
    for T in targets:
        inside = np.zeros(d, dtype=bool)
        inside[list(T)] = True
        D |= B & (inside[:, None] != inside[None, :])  # edges with one end in T
    if oriented is not None:
        D |= B & (np.asarray(oriented) != 0)
    U = adj & ~D & ~D.T
    while True:
        D, U = _apply_meek_rules(D, U, nonadj)
        new = _meek_rule_4(D, U, adj, nonadj)
        if not new.any():
            return (D | U).astype(int)
        D |= new
        U &= ~(new | new.T)


def _meek_rule_4(D: np.ndarray, U: np.ndarray, adj: np.ndarray,
                 nonadj: np.ndarray) -> np.ndarray:
    """Meek's R4: ``a - b``, ``a - k``, ``k -> l -> b``, ``k`` and ``b`` non-adjacent,
    ``a`` and ``l`` adjacent  =>  ``a -> b``; the newly oriented edges."""
    new = np.zeros_like(D)
    for a, b in zip(*np.nonzero(U), strict=True):
        ks = np.flatnonzero(U[a] & nonadj[:, b])
        ls = np.flatnonzero(D[:, b] & adj[a])
        if len(ks) and len(ls) and D[np.ix_(ks, ls)].any():
            new[a, b] = True
    return new & ~new.T


def _v_structures(B: np.ndarray, nonadj: np.ndarray) -> np.ndarray:
    """The edges of the v-structures ``a -> c <- b`` (``a``, ``b`` non-adjacent) of the
    DAG ``B``, as a boolean matrix (``D[i, j]``: ``i -> j``)."""
    d = B.shape[0]
    D = np.zeros((d, d), dtype=bool)
    for c in range(d):
        pa = np.flatnonzero(B[:, c])
        if len(pa) < 2:
            continue
        sub = nonadj[np.ix_(pa, pa)]
        compelled = pa[sub.any(axis=1)]
        D[compelled, c] = True
    return D


def _apply_meek_rules(
    D: np.ndarray, U: np.ndarray, nonadj: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Orient undirected edges ``U`` by Meek's rules R1-R3 until nothing changes.

    ``D`` holds the oriented edges; both are updated in place and returned.
    """
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
    return D, U
