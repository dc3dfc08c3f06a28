r"""Choosing the graph without the true graph: thresholds and bootstrap stability.

Nothing in this module takes a true graph: every rule sees only the data, the
learned weights and the learner. (A test checks the signatures.)

Threshold rules (``DagLearner(threshold="auto")`` uses :func:`select_threshold`):

``"dag"``
    The smallest threshold at which thresholding alone gives a DAG
    (:func:`smallest_dag_threshold`): keep every edge that is not needed to break
    a cycle of strong ones.
``"heldout"``
    The threshold whose graph, refitted on a training part of the rows, predicts
    a held-out part best: for candidate thresholds :math:`t` (quantiles of the
    non-zero :math:`|W_{ij}|`), :math:`G_t` = ``threshold_to_dag(W, t)``; each
    variable is regressed on its parents in :math:`G_t` on the training rows
    (OLS for ``kind="linear"``; ridge regression on random Fourier features of the
    parents plus the parents themselves for ``kind="nonlinear"``), and the score
    is the held-out Gaussian negative log-likelihood

    .. math::  \mathrm{NLL}(G_t) = \frac{n_\mathrm{val}}{2} \sum_j \log \hat\sigma^2_j(G_t),

    :math:`\hat\sigma^2_j` the mean squared prediction error of variable :math:`j`
    on the held-out rows. The smallest NLL wins; ties go to the larger threshold.
    Regressions are cached per (variable, parent set), so a candidate costs only
    the parent sets it changes.

Stability (:func:`stable_graph`): from the edge frequencies over bootstrap refits
(:mod:`dagforge.resampling`), keep the edges at or above a frequency, breaking any
cycle at its least frequent edge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from dagforge.errors import ConfigError, DataError
from dagforge.graph import is_dag, threshold_to_dag

log = logging.getLogger(__name__)

__all__ = [
    "HeldoutScorer",
    "ThresholdSelection",
    "select_threshold",
    "smallest_dag_threshold",
    "stable_graph",
    "threshold_candidates",
]

Rule = Literal["dag", "heldout"]
Kind = Literal["linear", "nonlinear"]


# --------------------------------------------------------------------------- thresholds


def threshold_candidates(W: np.ndarray, n_candidates: int = 40) -> np.ndarray:
    """Candidate thresholds: 0 and up to ``n_candidates`` quantiles of the distinct
    non-zero off-diagonal ``|W|`` (each a value of ``|W|``, so each keeps the edges
    of at least that weight), ascending."""
    A = np.abs(np.asarray(W, dtype=float))
    np.fill_diagonal(A, 0.0)
    values = np.unique(A[A > 0])
    if len(values) > n_candidates:
        idx = np.unique(np.round(np.linspace(0, len(values) - 1, n_candidates)).astype(int))
        values = values[idx]
    return np.concatenate([[0.0], values])


def smallest_dag_threshold(W: np.ndarray) -> float:
    """The smallest ``t`` such that keeping the edges with ``|W| >= t`` gives a DAG.

    Acyclicity is monotone in ``t`` (a larger threshold only removes edges), so a
    bisection over the distinct values of ``|W|`` finds it in ``O(log d)`` checks.
    """
    A = np.abs(np.asarray(W, dtype=float))
    np.fill_diagonal(A, 0.0)
    if is_dag(A > 0):
        return 0.0
    # past the largest value nothing is left: a DAG
    values = np.append(np.unique(A[A > 0]), np.nextafter(A.max(), np.inf))
    lo, hi = 0, len(values) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if is_dag(A >= values[mid]):
            hi = mid
        else:
            lo = mid + 1
    return float(values[lo])


class HeldoutScorer:
    """Held-out Gaussian NLL of graphs refitted on a training part of the rows.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data (the columns are centred and scaled by the training rows' statistics).
    kind : {"linear", "nonlinear"}
        Regression of a variable on its parents: OLS, or ridge on random Fourier
        features (``n_features`` of them, bandwidth ``sqrt(#parents)`` on the
        standardised parents) together with the parents themselves.
    val_fraction : float
        Share of rows held out.
    rng : numpy.random.Generator
        Draws the split and the random features.
    ridge : float
        Ridge penalty of the nonlinear regression, per training row.
    """

    def __init__(self, X: np.ndarray, *, kind: Kind = "linear", val_fraction: float = 0.2,
                 rng: np.random.Generator, n_features: int = 100, ridge: float = 1e-3,
                 edge_cost: float | None = None) -> None:
        if kind not in ("linear", "nonlinear"):
            raise ConfigError(f"unknown regression kind {kind!r}; choose linear or nonlinear")
        if not 0.0 < val_fraction < 1.0:
            raise ConfigError(f"val_fraction must lie in (0, 1), got {val_fraction}")
        X = np.asarray(X, dtype=float)
        n = X.shape[0]
        n_val = round(val_fraction * n)
        if n_val < 2 or n - n_val < 3:
            raise DataError(f"too few rows ({n}) for a held-out threshold choice")
        perm = rng.permutation(n)
        tr, va = perm[n_val:], perm[:n_val]
        mu, sd = X[tr].mean(0), X[tr].std(0)
        sd[sd == 0] = 1.0
        self.Xtr = (X[tr] - mu) / sd  # [n_tr, d]
        self.Xva = (X[va] - mu) / sd  # [n_val, d]
        self.kind = kind
        self.ridge = ridge
        self.edge_cost = 0.5 * np.log(n_val) if edge_cost is None else float(edge_cost)
        d = X.shape[1]
        self._omega = rng.normal(size=(d, n_features))  # [d, F], rows used per parent set
        self._phase = rng.uniform(0, 2 * np.pi, size=n_features)  # [F]
        self._cache: dict[tuple[int, bytes], float] = {}

    def _features(self, Z: np.ndarray, parents: np.ndarray) -> np.ndarray:
        """Regression design for the parents' columns ``Z`` [m, p] (with intercept)."""
        cols = [np.ones((Z.shape[0], 1)), Z]
        if self.kind == "nonlinear":
            omega = self._omega[parents] / np.sqrt(len(parents))  # [p, F]
            cols.append(np.sqrt(2.0 / omega.shape[1]) * np.cos(Z @ omega + self._phase))
        return np.hstack(cols)

    def variable_mse(self, j: int, parents: np.ndarray) -> float:
        """Held-out mean squared error of variable ``j`` predicted from ``parents``."""
        key = (j, np.asarray(parents, dtype=np.int64).tobytes())
        if key in self._cache:
            return self._cache[key]
        y_tr, y_va = self.Xtr[:, j], self.Xva[:, j]
        if len(parents) == 0:
            mse = float(np.mean((y_va - y_tr.mean()) ** 2))
        else:
            F_tr = self._features(self.Xtr[:, parents], parents)  # [n_tr, q]
            F_va = self._features(self.Xva[:, parents], parents)  # [n_val, q]
            G = F_tr.T @ F_tr
            reg = self.ridge * len(y_tr) if self.kind == "nonlinear" else 1e-10 * np.trace(G)
            G[np.diag_indices_from(G)] += reg
            beta = np.linalg.solve(G, F_tr.T @ y_tr)
            mse = float(np.mean((y_va - F_va @ beta) ** 2))
        self._cache[key] = max(mse, 1e-300)
        return self._cache[key]

    def __call__(self, A: np.ndarray) -> float:
        """Held-out NLL (up to a constant) of the DAG ``A`` (non-zero = edge)."""
        A = np.asarray(A) != 0
        n_val = self.Xva.shape[0]
        nll = 0.5 * n_val * sum(np.log(self.variable_mse(j, np.flatnonzero(A[:, j])))
                                for j in range(A.shape[0]))
        return float(nll + self.edge_cost * np.count_nonzero(A))


@dataclass
class ThresholdSelection:
    """Result of :func:`select_threshold`.

    Attributes
    ----------
    threshold : float
        The chosen threshold.
    weights : ndarray of shape (d, d)
        ``threshold_to_dag(W, threshold, required)``: the chosen DAG's weights.
    rule : str
    scores : dict
        Candidate threshold -> score (held-out NLL; empty for ``"dag"``).
    """

    threshold: float
    weights: np.ndarray
    rule: str
    scores: dict[float, float] = field(default_factory=dict)


def select_threshold(
    W: np.ndarray,
    X: np.ndarray | None = None,
    *,
    rule: Rule = "heldout",
    kind: Kind = "linear",
    required: np.ndarray | None = None,
    val_fraction: float = 0.2,
    n_candidates: int = 40,
    rng: np.random.Generator | None = None,
    score: Callable[[np.ndarray], float] | None = None,
) -> ThresholdSelection:
    """Choose the threshold of the weighted adjacency ``W`` by ``rule`` (see the module
    docstring); the result is always a DAG.

    Parameters
    ----------
    W : ndarray of shape (d, d)
        Learned weighted adjacency (``W[i, j]``: ``i -> j``).
    X : ndarray of shape (n, d), optional
        The data ``W`` was learned from (needed by ``"heldout"``).
    rule : {"heldout", "dag"}
    kind : {"linear", "nonlinear"}
        Regression used by ``"heldout"`` (:class:`HeldoutScorer`).
    required : bool ndarray of shape (d, d), optional
        Edges kept at any threshold (prior knowledge).
    val_fraction, n_candidates :
        Held-out share of rows; number of candidate thresholds.
    rng : numpy.random.Generator, optional
        Split and random features (default: ``default_rng(0)``).
    score : callable, optional
        Replaces the held-out scorer: graph (bool d x d) -> score, lower is better.
    """
    if rule == "dag":
        t = smallest_dag_threshold(W)
        return ThresholdSelection(t, threshold_to_dag(W, t, required), "dag")
    if rule != "heldout":
        raise ConfigError(f"unknown threshold rule {rule!r}; choose heldout or dag")
    if score is None:
        if X is None:
            raise ConfigError("the heldout threshold rule needs the data X")
        score = HeldoutScorer(X, kind=kind, val_fraction=val_fraction,
                              rng=rng if rng is not None else np.random.default_rng(0))
    scores: dict[float, float] = {}
    best_t, best_s, best_w = 0.0, np.inf, None
    for t in threshold_candidates(W, n_candidates):
        Wt = threshold_to_dag(W, float(t), required)
        s = float(score(Wt != 0))
        scores[float(t)] = s
        if s <= best_s + 1e-9 * abs(best_s):  # ties: the larger threshold
            best_t, best_s, best_w = float(t), s, Wt
    assert best_w is not None
    log.info("threshold (%s, %s): %.4g, score %.6g over %d candidates", rule, kind, best_t,
             best_s, len(scores))
    return ThresholdSelection(best_t, best_w, "heldout", scores)


# --------------------------------------------------------------------------- stability


def stable_graph(probability: np.ndarray, frequency: float = 0.5,
                 required: np.ndarray | None = None) -> np.ndarray:
    """Stability selection: the edges in at least ``frequency`` of the refits, as a DAG
    (any cycle broken at its least frequent edge); returns 0/1 of shape (d, d)."""
    if not 0.0 < frequency <= 1.0:
        raise ConfigError(f"frequency must lie in (0, 1], got {frequency}")
    P = np.asarray(probability, dtype=float)
    # a share k / B equal to frequency up to rounding is kept
    return (threshold_to_dag(P, frequency - 1e-12, required) != 0).astype(int)
