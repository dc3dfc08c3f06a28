"""Random DAG samplers: Erdős–Rényi and scale-free (Barabási–Albert) graphs.

All samplers return a ``d x d`` 0/1 integer matrix ``B`` with ``B[i, j] = 1``
meaning the edge ``i -> j`` (see :mod:`dagforge.graph`). The nodes are randomly
relabelled at the end, so the index order ``0, 1, ..., d-1`` is in general *not*
a topological order: a learner cannot read the causal order off the columns.

Density is given as ``k``, the expected number of edges per node, so a graph
has about ``k * d`` edges (``ER2`` in the literature is ``k = 2``). A DAG on
``d`` nodes has at most ``d (d - 1) / 2`` edges, hence ``0 < k <= (d - 1) / 2``.
"""

from __future__ import annotations

import logging
import math
from typing import Literal

import numpy as np

from dagforge.errors import ConfigError
from dagforge.simulate._util import (
    check_choice,
    check_int,
    check_range,
    check_rng,
    signed_uniform,
)

__all__ = ["GraphKind", "edge_weights", "erdos_renyi", "scale_free", "simulate_graph"]

logger = logging.getLogger(__name__)

GraphKind = Literal["er", "sf"]
"""Graph families: ``"er"`` (Erdős–Rényi) and ``"sf"`` (scale-free, Barabási–Albert)."""


def _check_graph_args(d: int, k: float, rng: np.random.Generator) -> tuple[int, float]:
    d = check_int(d, "d (number of nodes)", 2)
    check_rng(rng)
    if isinstance(k, bool) or not isinstance(k, int | float) or not math.isfinite(k) or k <= 0:
        raise ConfigError(f"k (expected edges per node) must be a number > 0, got {k!r}")
    k_max = (d - 1) / 2
    if k > k_max:
        raise ConfigError(
            f"k={k:g} is too dense for d={d}: a DAG on d nodes has at most d(d-1)/2 edges, "
            f"so k <= (d-1)/2 = {k_max:g}"
        )
    return d, float(k)


def _permute(B: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Relabel the nodes by a random permutation: ``B'[a, b] = B[perm[a], perm[b]]``."""
    perm = rng.permutation(B.shape[0])
    return B[np.ix_(perm, perm)]


def erdos_renyi(d: int, k: float, rng: np.random.Generator) -> np.ndarray:
    """Random Erdős–Rényi DAG with ``k * d`` edges in expectation.

    Each of the ``d (d - 1) / 2`` pairs of a random order gets an edge (from the
    earlier to the later node) independently with probability

    .. math:: p = \\frac{2k}{d - 1}, \\qquad
              \\mathbb{E}[\\#\\text{edges}] = p \\, \\frac{d (d-1)}{2} = k d .

    Parameters
    ----------
    d : int
        Number of nodes, ``d >= 2``.
    k : float
        Expected edges per node, ``0 < k <= (d - 1) / 2``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray of shape (d, d), int
        0/1 adjacency, ``B[i, j] = 1`` for ``i -> j``; acyclic, nodes randomly permuted.
    """
    d, k = _check_graph_args(d, k, rng)
    p = 2.0 * k / (d - 1)
    # Edges only from a higher to a lower index: the reversed index order is topological.
    B = np.tril(rng.random((d, d)) < p, k=-1).astype(int)
    B = _permute(B, rng)
    logger.debug("erdos_renyi(d=%d, k=%g): p=%.4f, %d edges", d, k, p, int(B.sum()))
    return B


def scale_free(d: int, k: float, rng: np.random.Generator) -> np.ndarray:
    """Random scale-free DAG by Barabási–Albert preferential attachment.

    Nodes arrive one at a time; node ``t`` attaches to ``m_t`` distinct earlier
    nodes, chosen without replacement with probability proportional to their
    current degree plus one,

    .. math:: P(\\text{attach to } s) \\propto \\deg(s) + 1 , \\qquad s < t ,

    where ``m_t = min(t, floor(k) + Bernoulli(k - floor(k)))``, so ``E[m_t] = k``
    for ``t >= k`` (integer ``k`` gives exactly ``k``). The edges point from the
    new node to the earlier nodes it attaches to, as in igraph's directed
    ``Barabasi`` graph used by NOTEARS/DAGMA: hubs are nodes with many *parents*.
    Use ``B.T`` (also a DAG) for hubs with many children.

    The first nodes cannot attach to ``k`` earlier nodes, so for integer ``k``
    the graph has ``k d - k (k + 1) / 2`` edges, slightly fewer than ``k d``.

    Parameters
    ----------
    d : int
        Number of nodes, ``d >= 2``.
    k : float
        Expected edges per new node, ``0 < k <= (d - 1) / 2``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray of shape (d, d), int
        0/1 adjacency, ``B[i, j] = 1`` for ``i -> j``; acyclic, nodes randomly permuted.
    """
    d, k = _check_graph_args(d, k, rng)
    m_floor, m_frac = math.floor(k), k - math.floor(k)
    B = np.zeros((d, d), dtype=int)
    degree = np.zeros(d)
    for t in range(1, d):
        m = min(t, m_floor + int(rng.random() < m_frac))
        if m == 0:
            continue
        weight = degree[:t] + 1.0
        targets = rng.choice(t, size=m, replace=False, p=weight / weight.sum())
        B[t, targets] = 1  # new node -> earlier nodes: index order reversed is topological
        degree[targets] += 1
        degree[t] += m
    B = _permute(B, rng)
    logger.debug("scale_free(d=%d, k=%g): %d edges", d, k, int(B.sum()))
    return B


def simulate_graph(kind: GraphKind, d: int, k: float, rng: np.random.Generator) -> np.ndarray:
    """Random DAG of the family ``kind`` (``"er"`` or ``"sf"``); see :func:`erdos_renyi`
    and :func:`scale_free`."""
    kind = check_choice(kind, GraphKind, "graph kind")
    sampler = erdos_renyi if kind == "er" else scale_free
    return sampler(d, k, rng)


def edge_weights(
    B: np.ndarray, rng: np.random.Generator, low: float = 0.5, high: float = 2.0
) -> np.ndarray:
    """Random edge weights on the edges of ``B``: ``W[i, j] ~ U(-high, -low) ∪ U(low, high)``.

    Magnitudes are uniform on ``[low, high]``, signs are ``+`` or ``-`` with
    probability 1/2 each. Non-edges (``B[i, j] == 0``) get weight 0.

    Parameters
    ----------
    B : ndarray of shape (d, d)
        Graph; any non-zero entry is an edge.
    rng : numpy.random.Generator
        Source of randomness.
    low, high : float
        Range of the absolute weights, ``0 < low <= high``.

    Returns
    -------
    ndarray of shape (d, d), float
        The weighted adjacency ``W``.
    """
    check_rng(rng)
    low, high = check_range(low, high, "edge_weights")
    B = np.asarray(B)
    if B.ndim != 2 or B.shape[0] != B.shape[1]:
        raise ConfigError(f"B must be a square (d x d) matrix, got shape {B.shape}")
    W = signed_uniform(rng, B.shape, low, high)
    return np.where(B != 0, W, 0.0)
