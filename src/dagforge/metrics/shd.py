"""Edge counts and structural Hamming distances (DAGs and CPDAGs).

The counting conventions (directed tp / fp / fn, structural extra / missing /
reversed) are stated in :mod:`dagforge.metrics`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dagforge.errors import GraphError
from dagforge.graph import dag_to_cpdag, dag_to_icpdag, is_dag
from dagforge.metrics._checks import check_pair

__all__ = ["EdgeCounts", "count_edges", "edge_counts", "shd", "shd_cpdag", "shd_double",
           "shd_icpdag"]


@dataclass(frozen=True)
class EdgeCounts:
    """Edge counts of a prediction against the truth (see the module docstring).

    Attributes
    ----------
    d : int
        Number of variables.
    true_edges, nnz : int
        Directed edges in the truth and in the prediction.
    tp, fp, fn : int
        Directed (ordered-pair) true positives, false positives, false negatives.
    extra, missing, reversed : int
        Structural (unordered-pair) differences; ``shd = extra + missing + reversed``.
    """

    d: int
    true_edges: int
    nnz: int
    tp: int
    fp: int
    fn: int
    extra: int
    missing: int
    reversed: int

    @property
    def shd(self) -> int:
        """Structural Hamming distance, a reversed edge counting once."""
        return self.extra + self.missing + self.reversed

    @property
    def shd_double(self) -> int:
        """Number of differing entries of the 0/1 matrices, a reversed edge counting twice."""
        return self.fp + self.fn


def count_edges(B: np.ndarray, P: np.ndarray) -> EdgeCounts:
    """Count on validated boolean matrices (the one place the counting logic lives)."""
    d = B.shape[0]
    iu = np.triu_indices(d, k=1)
    # per unordered pair i < j: does the graph have i -> j, j -> i?
    bf, bb = B[iu], B.T[iu]
    pf, pb = P[iu], P.T[iu]
    differ = (bf != pf) | (bb != pb)
    pred_sup = (pf >= bf) & (pb >= bb)  # predicted edges contain the true ones
    pred_sub = (pf <= bf) & (pb <= bb)  # predicted edges contained in the true ones
    extra = int(np.sum(differ & pred_sup))
    missing = int(np.sum(differ & pred_sub))
    rev = int(np.sum(differ & ~pred_sup & ~pred_sub))
    return EdgeCounts(
        d=d,
        true_edges=int(B.sum()),
        nnz=int(P.sum()),
        tp=int(np.sum(B & P)),
        fp=int(np.sum(~B & P)),
        fn=int(np.sum(B & ~P)),
        extra=extra,
        missing=missing,
        reversed=rev,
    )


def edge_counts(*, true: np.ndarray, pred: np.ndarray) -> EdgeCounts:
    """Directed and structural edge counts of ``pred`` against ``true``.

    Parameters
    ----------
    true, pred : ndarray of shape (d, d)
        Graphs, ``M[i, j] != 0`` is the edge ``i -> j``; weights are ignored.

    Returns
    -------
    EdgeCounts
        ``tp, fp, fn`` over ordered pairs; ``extra, missing, reversed`` over
        unordered pairs (see the module docstring).

    Examples
    --------
    Truth ``0 -> 1 -> 2``; prediction ``1 -> 0`` (reversed), ``0 -> 2`` (extra),
    ``1 -> 2`` missing:

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    >>> c = edge_counts(true=true, pred=pred)
    >>> (c.tp, c.fp, c.fn, c.extra, c.missing, c.reversed)
    (0, 2, 2, 1, 1, 1)

    A 2-cycle over a true edge is one extra pair (and one directed false positive):

    >>> c = edge_counts(true=np.array([[0, 1], [0, 0]]), pred=np.array([[0, 1], [1, 0]]))
    >>> (c.tp, c.fp, c.fn, c.extra, c.missing, c.reversed)
    (1, 1, 0, 1, 0, 0)
    """
    return count_edges(*check_pair(true, pred))


# --------------------------------------------------------------------------- SHD


def shd(*, true: np.ndarray, pred: np.ndarray) -> int:
    r"""Structural Hamming distance, a reversed edge counting once.

    .. math::

        \mathrm{SHD} = \#\{\{i, j\} : i < j,\ (B_{ij}, B_{ji}) \ne (\hat B_{ij}, \hat B_{ji})\}
                     = \text{extra} + \text{missing} + \text{reversed},

    the number of unordered pairs whose edges differ: edge insertions, deletions
    and reversals needed to turn ``pred`` into ``true`` (a 2-cycle over a true
    edge counts once, as an extra edge).

    Examples
    --------
    Truth ``0 -> 1 -> 2``, prediction ``1 -> 0`` (reversed) and ``0 -> 2``
    (extra), ``1 -> 2`` missing: ``1 + 1 + 1 = 3``.

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    >>> shd(true=true, pred=pred)
    3
    """
    return edge_counts(true=true, pred=pred).shd


def shd_double(*, true: np.ndarray, pred: np.ndarray) -> int:
    r"""Structural Hamming distance with a reversed edge counting twice.

    .. math:: \mathrm{SHD}_2 = \sum_{i, j} |B_{ij} - \hat B_{ij}| = fp + fn,

    the number of differing entries of the 0/1 matrices; this is cdt's
    ``SHD(..., double_for_anticausal=True)``.

    Examples
    --------
    Same graphs as :func:`shd`: the reversal counts 2, so ``2 + 1 + 1 = 4``.

    >>> true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> pred = np.array([[0, 0, 1], [1, 0, 0], [0, 0, 0]])
    >>> shd_double(true=true, pred=pred)
    4
    """
    return edge_counts(true=true, pred=pred).shd_double


def shd_cpdag(*, true: np.ndarray, pred: np.ndarray) -> int:
    r"""SHD between the CPDAGs (Markov equivalence classes) of two DAGs.

    Both graphs are mapped to their CPDAG with :func:`dagforge.graph.dag_to_cpdag`;
    the result is the number of unordered pairs ``{i, j}`` whose mark differs
    among *none*, ``i -> j``, ``j -> i`` and *undirected* ``i - j``. Every
    difference counts 1, so a DAG in the true equivalence class scores 0.

    Raises
    ------
    GraphError
        If either graph has a directed cycle (the CPDAG of a cyclic graph is not
        defined; :func:`evaluate` reports NaN instead).

    Examples
    --------
    The chain ``0 -> 1 -> 2`` and the fork ``0 <- 1 -> 2`` are Markov
    equivalent (both CPDAGs are ``0 - 1 - 2``), though their SHD is 1; the
    collider ``0 -> 1 <- 2`` is not (CPDAG ``0 -> 1 <- 2``, both marks differ):

    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> fork = np.array([[0, 0, 0], [1, 0, 1], [0, 0, 0]])
    >>> collider = np.array([[0, 1, 0], [0, 0, 0], [0, 1, 0]])
    >>> shd_cpdag(true=chain, pred=fork), shd(true=chain, pred=fork)
    (0, 1)
    >>> shd_cpdag(true=chain, pred=collider)
    2
    """
    B, P = check_pair(true, pred)
    for M, name in ((B, "true"), (P, "pred")):
        if not is_dag(M):
            raise GraphError(f"shd_cpdag needs DAGs; {name} has a directed cycle")
    # the CPDAG matrices encode the four marks as (C[i, j], C[j, i]); a pair's mark
    # differs iff the unordered pair differs, which is what the structural count does
    return count_edges(dag_to_cpdag(B) != 0, dag_to_cpdag(P) != 0).shd


def shd_icpdag(*, true: np.ndarray, pred: np.ndarray,
               targets: Iterable[Sequence[int]]) -> int:
    r"""SHD between the interventional essential graphs of two DAGs under the
    experiments with ``targets`` (variable indices, one set per regime;
    :func:`dagforge.graph.dag_to_icpdag`): as :func:`shd_cpdag`, the pairs whose mark
    differs, where an edge the experiments orient counts as directed.

    Examples
    --------
    The chain ``0 -> 1 -> 2`` against its reversal: one class from observation
    (SHD-CPDAG 0), but an experiment on ``1`` tells them apart on both edges:

    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> shd_cpdag(true=chain, pred=chain.T), shd_icpdag(true=chain, pred=chain.T,
    ...                                                 targets=[[1]])
    (0, 2)
    """
    B, P = check_pair(true, pred)
    for M, name in ((B, "true"), (P, "pred")):
        if not is_dag(M):
            raise GraphError(f"shd_icpdag needs DAGs; {name} has a directed cycle")
    T = [list(t) for t in targets]
    return count_edges(dag_to_icpdag(B, T) != 0, dag_to_icpdag(P, T) != 0).shd
