r"""Bootstrap resampling of a structure learner: edge probabilities and stability selection.

:func:`bootstrap_edge_probability` refits a learner on :math:`B` resamples of the rows
(drawn with replacement) and counts its edges: with :math:`A^{(b)}` the DAG of refit
:math:`b`,

.. math::

    P_{ij} = \frac{1}{B} \sum_b A^{(b)}_{ij} \quad (i \to j), \qquad
    Q_{ij} = \frac{1}{B} \sum_b \max(A^{(b)}_{ij}, A^{(b)}_{ji}) \quad (i - j),

so :math:`Q` is symmetric and :math:`Q \ge \max(P, P^\top)`. An edge whose direction
the data do not settle (one of a Markov equivalence class) shows a high :math:`Q` but
a split :math:`P`.

:class:`BootstrapDagLearner` is the same as a scikit-learn meta-estimator: it fits a
clone of its ``base`` on the full data, refits clones on the resamples in parallel
(:mod:`dagforge.parallel`), and with ``stability`` keeps the edges found in at least
that share of the refits (:func:`~dagforge.selection.stable_graph`), their weights
refitted on the full data.

Each refit's resample and learner seed come from ``random_state`` alone
(:class:`numpy.random.SeedSequence`), and the results are gathered in resample order,
so the outcome does not depend on ``n_jobs``. Nothing here sees a true graph.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from tqdm import tqdm

from dagforge import progress as progress_bars
from dagforge.data import Dataset
from dagforge.errors import ConfigError
from dagforge.fitted import FittedGraph
from dagforge.graph import to_networkx
from dagforge.models.linear import covariance
from dagforge.models.registry import get_model
from dagforge.parallel import Backend, effective_n_jobs, parallel_imap
from dagforge.search import ols_weights
from dagforge.selection import stable_graph

log = logging.getLogger(__name__)

__all__ = [
    "BootstrapDagLearner",
    "BootstrapResult",
    "bootstrap_edge_probability",
    "resample_rows",
    "stable_weights",
]

#: the data a learner is fitted on: a checked matrix (with ``names``) or a Dataset
Data = np.ndarray | Dataset


@dataclass
class BootstrapResult:
    """Edge frequencies over bootstrap refits.

    Attributes
    ----------
    probability : ndarray of shape (d, d)
        Share of the refits with the edge ``i -> j``; in [0, 1].
    adjacencies : ndarray of shape (n_boot, d, d)
        Each refit's DAG (0/1, int8).
    seeds : list of int
        Seed of each refit's resample and learner.
    adjacency_probability : ndarray of shape (d, d)
        Share of the refits with an edge between ``i`` and ``j`` in either direction;
        symmetric, and at least ``probability`` and its transpose.
    """

    probability: np.ndarray
    adjacencies: np.ndarray
    seeds: list[int]
    adjacency_probability: np.ndarray


def _plain_clone(learner: Any, random_state: int | None = None) -> Any:
    """An unfitted copy of ``learner`` that does not resample itself (a DagLearner with
    ``bootstrap`` is refitted plainly), with ``random_state`` set when given."""
    model = clone(learner)
    params = model.get_params()
    if random_state is not None and "random_state" in params:
        model.set_params(random_state=random_state)
    if params.get("bootstrap"):
        model.set_params(bootstrap=0, stability=None)
    return model


def _fit(model: Any, X: Data, names: Sequence[str] | None) -> Any:
    """``model.fit`` on an array with its names, or on a Dataset (which has its own)."""
    if isinstance(X, Dataset):
        return model.fit(X)
    return model.fit(X, names=names)


def _n_rows(X: Data) -> int:
    return X.n if isinstance(X, Dataset) else X.shape[0]


def _rows(X: Data, index: np.ndarray) -> Data:
    return X.rows(index) if isinstance(X, Dataset) else X[index]


def resample_rows(X: Data, rng: np.random.Generator) -> np.ndarray:
    """Row indices of one bootstrap resample (n, with replacement); interventional data
    are resampled within each regime, so every regime keeps its size."""
    n = _n_rows(X)
    if not isinstance(X, Dataset) or X.regimes is None:
        return rng.integers(0, n, size=n)  # [n]
    idx = np.empty(n, dtype=np.intp)
    for label in dict.fromkeys(X.regimes):  # regimes in order of first appearance
        rows = np.flatnonzero(X.regimes == label)
        idx[rows] = rows[rng.integers(0, len(rows), size=len(rows))]
    return idx


@dataclass(frozen=True)
class _Refit:
    """One bootstrap refit of ``learner`` on ``X``, a function of its seed (so that
    :func:`~dagforge.parallel.parallel_imap` can send it to a worker process)."""

    learner: Any
    X: Data
    names: Sequence[str] | None

    def __call__(self, seed: int) -> np.ndarray:
        idx = resample_rows(self.X, np.random.default_rng(seed))  # [n], the resampled rows
        # below 2**31: a non-negative int32, which any random_state accepts
        model = _plain_clone(self.learner, random_state=seed % (2**31))
        _fit(model, _rows(self.X, idx), self.names)
        return np.asarray(model.adjacency_, dtype=np.int8)  # [d, d]


def bootstrap_edge_probability(
    learner: Any,
    X: Data,
    *,
    names: Sequence[str] | None = None,
    n_boot: int = 20,
    n_jobs: int | None = 1,
    random_state: int | None = 0,
    progress: bool = True,
    backend: Backend | None = None,
) -> BootstrapResult:
    """Refit ``learner`` (a :class:`~dagforge.estimator.DagLearner` or any estimator
    with ``fit(X, names=)`` and ``adjacency_``) on ``n_boot`` row resamples.

    Parameters
    ----------
    learner : estimator
        Cloned for every refit (:func:`sklearn.base.clone`); itself left unfitted.
    X : ndarray of shape (n, d) or Dataset
        The data; a Dataset is resampled with its regime labels, within each regime
        (:func:`resample_rows`).
    names : sequence of str, optional
        Variable names, passed to every refit of an array.
    n_boot : int
        Number of refits.
    n_jobs : int or None
        Worker processes (scikit-learn's convention, :mod:`dagforge.parallel`).
    random_state : int or None
        Seed of the resamples and of the refits' learners (None: fresh entropy).
    progress : bool
        A progress bar on a terminal; each refit is also logged.
    backend : {"loky", "sequential", "ray"}, optional
        Where the refits run (:func:`dagforge.parallel.parallel_imap`).

    Returns
    -------
    BootstrapResult
        Depends only on ``random_state`` and the inputs, not on ``n_jobs`` or the
        order in which refits finish.
    """
    if not isinstance(X, Dataset):
        X = np.asarray(X, dtype=float)
    if n_boot < 1:
        raise ConfigError(f"n_boot must be at least 1, got {n_boot}")
    effective_n_jobs(n_jobs)  # a bad n_jobs fails before any refit
    seeds = [int(s.generate_state(1)[0]) for s in
             np.random.SeedSequence(random_state).spawn(n_boot)]
    d = X.d if isinstance(X, Dataset) else X.shape[1]
    out = np.zeros((n_boot, d, d), dtype=np.int8)  # [n_boot, d, d]
    bar = tqdm(total=n_boot, desc="bootstrap", file=sys.stderr, leave=False,
               disable=not (progress and progress_bars.enabled()))
    refits = parallel_imap(_Refit(learner, X, names), seeds, n_jobs=n_jobs, backend=backend)
    try:
        for b, adjacency in enumerate(refits):
            out[b] = adjacency
            bar.update()
            log.info("bootstrap refit %d/%d done", b + 1, n_boot)
    finally:
        bar.close()
    either = out | out.transpose(0, 2, 1)  # [n_boot, d, d], an edge i - j either way
    return BootstrapResult(out.mean(axis=0), out, seeds, either.mean(axis=0))


def stable_weights(learner: Any, X: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Weights of the graph ``A`` for the fitted ``learner`` that saw the data ``X``.

    A DagLearner with a linear model gets the OLS weights of ``A`` from the covariance
    of ``X``; any other learner its continuous weights (``W_``, else ``weights_``)
    on the edges of ``A``, 0 elsewhere.
    """
    A = np.asarray(A) != 0
    model = getattr(learner, "model", None)
    if isinstance(model, str) and get_model(model).learner == "linear":
        return ols_weights(covariance(X).numpy(), A)
    W = getattr(learner, "W_", None)
    return np.where(A, learner.weights_ if W is None else W, 0.0)


class BootstrapDagLearner(FittedGraph, BaseEstimator):
    """A structure learner with bootstrap edge probabilities (and stability selection).

    Parameters
    ----------
    base : estimator
        The learner, e.g. :class:`~dagforge.estimator.DagLearner` (anything with
        ``fit(X, names=)``, ``adjacency_`` and ``weights_``); cloned, never fitted itself.
    n_resamples : int
        Number of bootstrap refits.
    n_jobs : int or None
        Worker processes for the refits (scikit-learn's convention, ``-1``: every
        core); the result does not depend on it.
    stability : float, optional
        Keep only the edges found in at least this share of the refits (any cycle
        broken at its least frequent edge), weights refitted by :func:`stable_weights`.
    random_state : int, optional
        Seed of the resamples and of the refits' learners (default: ``base``'s
        ``random_state``, or 0), so that ``BootstrapDagLearner(DagLearner(random_state=s),
        n_resamples=k)`` gives the probabilities of ``DagLearner(bootstrap=k,
        random_state=s)``.

    Attributes
    ----------
    learner_ : estimator
        ``base`` fitted on the full data.
    edge_probability_ : ndarray of shape (d, d)
        Share of the refits with the edge ``i -> j``.
    adjacency_probability_ : ndarray of shape (d, d)
        Share of the refits with an edge ``i - j`` in either direction (symmetric).
    adjacencies_ : ndarray of shape (n_resamples, d, d)
        Each refit's DAG; ``seeds_`` the seed of each.
    adjacency_, weights_ : ndarray of shape (d, d)
        The output DAG (0/1) and its weights: ``learner_``'s, or with ``stability``
        the stable graph.
    feature_names_in_ : ndarray of str
    n_features_in_ : int
    """

    def __init__(
        self,
        base: Any,
        n_resamples: int = 20,
        n_jobs: int | None = 1,
        stability: float | None = None,
        random_state: int | None = None,
    ) -> None:
        self.base = base
        self.n_resamples = n_resamples
        self.n_jobs = n_jobs
        self.stability = stability
        self.random_state = random_state

    def _check_params(self) -> None:
        if not callable(getattr(self.base, "fit", None)):
            raise ConfigError(f"base must be an estimator with fit(), got {self.base!r}")
        if isinstance(self.n_resamples, bool) or not (
                isinstance(self.n_resamples, int) and self.n_resamples >= 1):
            raise ConfigError(f"n_resamples must be an integer >= 1, got {self.n_resamples!r}")
        effective_n_jobs(self.n_jobs)
        if self.stability is not None and not 0.0 < self.stability <= 1.0:
            raise ConfigError(f"stability must lie in (0, 1], got {self.stability}")

    def _seed(self) -> int:
        """The resamples' seed: ``random_state``, else the base's, else 0."""
        if self.random_state is not None:
            return self.random_state
        return self.base.get_params().get("random_state") or 0

    def fit(self, X: Any, y: None = None, names: Sequence[str] | None = None
            ) -> BootstrapDagLearner:
        """Fit ``base`` on ``X`` (array, DataFrame or Dataset of shape (n, d)) and on
        ``n_resamples`` resamples of its rows; returns ``self``."""
        self._check_params()
        if isinstance(X, torch.Tensor):
            X = X.detach().cpu().numpy()
        given = X if isinstance(X, Dataset) else Dataset.from_matrix(X, names)
        # a Dataset goes to the learner whole (regimes, types); a matrix as checked values
        data: Data = given if isinstance(X, Dataset) else given.values
        names_in = list(given.names)
        self.learner_ = _fit(_plain_clone(self.base), data, names_in)
        boot = bootstrap_edge_probability(
            self.base, data, names=names_in, n_boot=self.n_resamples, n_jobs=self.n_jobs,
            random_state=self._seed())
        self.edge_probability_ = boot.probability
        self.adjacency_probability_ = boot.adjacency_probability
        self.adjacencies_ = boot.adjacencies
        self.seeds_ = boot.seeds
        self.feature_names_in_ = np.asarray(names_in, dtype=object)
        self.n_features_in_ = len(names_in)
        if self.stability is None:
            self.adjacency_ = np.asarray(self.learner_.adjacency_).astype(int)
            self.weights_ = np.asarray(self.learner_.weights_)
        else:
            self._select_stable(given)
        return self

    def _select_stable(self, given: Dataset) -> None:
        """Set the stable graph and its weights, refitted on the data ``learner_`` saw."""
        required = getattr(self.learner_, "required_", None)
        if required is not None and not np.any(required):
            required = None
        A = stable_graph(self.edge_probability_, self.stability, required) != 0
        seen = given.standardized() if getattr(self.learner_, "standardize", False) else given
        self.weights_ = stable_weights(self.learner_, seen.values, A)
        self.adjacency_ = A.astype(int)
        log.info("stability selection at %.2f: %d edges", self.stability, int(A.sum()))

    @property
    def graph_(self) -> nx.DiGraph:
        """The output DAG as a networkx DiGraph with variable names and edge weights."""
        return to_networkx(self.weights_, [str(n) for n in self.feature_names_in_])

    @property
    def intervention_targets_(self) -> list[list[int]] | None:
        """The fitted learner's intervention targets (for ``cpdag_``)."""
        return getattr(self.learner_, "intervention_targets_", None)

    @property
    def allowed_(self) -> np.ndarray | None:
        """The fitted learner's allowed edges (prior knowledge, for ``cpdag_``)."""
        return getattr(self.learner_, "allowed_", None)
