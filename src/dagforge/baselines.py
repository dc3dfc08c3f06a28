r"""Reference baselines every learned graph is compared against.

A structure learner is only worth its cost if it beats these:

* :func:`empty` -- the graph with no edges (SHD = number of true edges);
* :func:`sortnregress` -- Var-SortnRegress (Reisach, Seiler & Weichwald 2021):
  sort by marginal variance, regress. On raw-scale simulated data with equal
  noise variances it is often near perfect, because the variance grows along
  the causal order ("varsortability"); on standardised data it is not;
* :func:`r2_sortnregress` -- R²-SortnRegress (Reisach et al. 2023): the same,
  sorting by the scale-invariant :math:`R^2` of each variable on all others.

Each returns a weighted adjacency ``W`` (``d x d`` float, ``W[i, j] != 0`` is the
edge ``i -> j``, see :mod:`dagforge.graph`), always acyclic. :data:`BASELINES`
maps names to them and :func:`run_baseline` runs one by name.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LassoLarsIC

from dagforge.errors import ConfigError, DataError
from dagforge.metrics import r2_coefficients

__all__ = [
    "BASELINES",
    "Baseline",
    "empty",
    "r2_sortnregress",
    "run_baseline",
    "sort_regress",
    "sortnregress",
]

logger = logging.getLogger(__name__)

Baseline = Callable[..., np.ndarray]
"""A baseline: ``f(X, random_state=None) -> W`` with ``W`` of shape (d, d)."""


def _check_X(X: np.ndarray) -> np.ndarray:
    """``X`` as a finite float (n, d) array with n >= 3 and d >= 2, else DataError."""
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError) as e:
        raise DataError(f"X must be a numeric (n, d) array: {e}") from e
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D (n, d) array, got {X.ndim} dimension(s)")
    n, d = X.shape
    if n < 3:
        raise DataError(f"X needs at least 3 rows (samples), got {n}")
    if d < 2:
        raise DataError(f"X needs at least 2 columns (variables), got {d}")
    if not np.all(np.isfinite(X)):
        raise DataError("X contains NaN or infinite values")
    return X


def empty(X: np.ndarray, random_state: int | np.random.Generator | None = None) -> np.ndarray:
    """The empty graph: a ``d x d`` matrix of zeros.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data; only ``d`` is used (after the usual checks).
    random_state : ignored
        Accepted for the common baseline signature.

    Examples
    --------
    >>> empty(np.arange(6.0).reshape(3, 2))
    array([[0., 0.],
           [0., 0.]])
    """
    X = _check_X(X)
    return np.zeros((X.shape[1], X.shape[1]))


def sort_regress(X: np.ndarray, scores: np.ndarray) -> np.ndarray:
    r"""Regress every variable on its predecessors in the order of increasing ``scores``.

    With the order :math:`\pi` (``argsort(scores)``, stable), for ``k = 1 .. d-1``
    the target :math:`t = \pi_k` is regressed on :math:`S = \{\pi_0, \dots, \pi_{k-1}\}`
    by an adaptive lasso:

    1. OLS (with intercept) gives weights :math:`\beta^{\mathrm{OLS}}` (and the
       residual variance :math:`\mathrm{RSS} / (n - k - 1)` that the BIC uses);
    2. ``LassoLarsIC(criterion="bic")`` is fitted on the rescaled predictors
       :math:`X_s |\beta^{\mathrm{OLS}}_s|`, giving :math:`\gamma`;
    3. :math:`W_{s t} = \gamma_s |\beta^{\mathrm{OLS}}_s|`, so the kept edges are
       the non-zero :math:`\gamma_s`, on the scale of the original predictors.

    Every edge goes from an earlier to a later variable of :math:`\pi`, so ``W``
    is a DAG.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data with n > d (each regression needs more samples than predictors + 1).
    scores : ndarray of shape (d,)
        Sorting key; lower comes first (is a potential cause of higher).

    Returns
    -------
    ndarray of shape (d, d)
        Weighted adjacency, ``W[i, j] != 0`` is ``i -> j``.
    """
    X = _check_X(X)
    n, d = X.shape
    scores = np.asarray(scores, dtype=float)
    if scores.shape != (d,):
        raise DataError(f"scores must have shape ({d},), got {scores.shape}")
    if n <= d:
        raise DataError(
            f"sort-and-regress needs more samples than variables (n > d), got n={n}, d={d}"
        )
    order = np.argsort(scores, kind="stable")
    # OLS through the Gram matrix of the centred, unit-norm columns: one [n, d] pass,
    # then only k x k solves (and no per-target O(n k^2) factorisation)
    Xc = X - X.mean(axis=0)  # [n, d]
    norms = np.linalg.norm(Xc, axis=0)  # [d]
    norms[norms == 0] = 1.0  # a constant column stays zero and gets a zero coefficient
    Z = Xc / norms  # [n, d]
    G = Z.T @ Z  # [d, d], the correlation matrix (zero rows for constant columns)
    W = np.zeros((d, d))
    for k in range(1, d):
        cov, target = order[:k], order[k]
        y = X[:, target]  # [n]
        beta_z, *_ = np.linalg.lstsq(G[np.ix_(cov, cov)], G[cov, target], rcond=None)  # [k]
        ols = beta_z * norms[target] / norms[cov]  # [k], coefficients on the raw scale
        rss = norms[target] ** 2 * max(1.0 - float(beta_z @ G[cov, target]), 0.0)
        # LassoLarsIC's own noise estimate is this same OLS fit's RSS / (n - k - 1);
        # passing it saves a second least-squares fit (floored for an exact fit)
        noise_var = max(rss / (n - k - 1), np.finfo(float).eps * float(y.var()))
        scale = np.abs(ols)  # [k]
        with warnings.catch_warnings():
            # LARS warns when a rescaled column is (numerically) zero or collinear;
            # the lasso then leaves that coefficient at 0, which is the intended result.
            warnings.simplefilter("ignore", ConvergenceWarning)
            lasso = LassoLarsIC(criterion="bic", noise_variance=noise_var)
            lasso.fit(X[:, cov] * scale, y)
        W[cov, target] = lasso.coef_ * scale
    logger.debug("sort_regress: order %s, %d edges", order.tolist(), int(np.sum(W != 0)))
    return W


def sortnregress(
    X: np.ndarray, random_state: int | np.random.Generator | None = None
) -> np.ndarray:
    r"""Var-SortnRegress (Reisach, Seiler & Weichwald 2021, "Beware of the simulated DAG!").

    Orders the variables by increasing marginal variance :math:`\mathrm{Var}(X_j)`
    and regresses each on all its predecessors with the BIC adaptive lasso of
    :func:`sort_regress`. It exploits varsortability
    (:func:`dagforge.metrics.varsortability`): when variance grows along the
    causal order, the variance order is a causal order. It is not scale
    invariant; on standardised data the order is arbitrary.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data, n > d, finite.
    random_state : ignored
        Accepted for the common baseline signature; the method is deterministic
        (ties in variance keep column order).

    Returns
    -------
    ndarray of shape (d, d)
        Weighted adjacency of a DAG, ``W[i, j] != 0`` is ``i -> j``.

    Examples
    --------
    A chain ``0 -> 1 -> 2`` whose variances grow along it is recovered:

    >>> rng = np.random.default_rng(0)
    >>> e = rng.standard_normal((500, 3))
    >>> x0 = e[:, 0]; x1 = 2 * x0 + e[:, 1]; x2 = 2 * x1 + e[:, 2]
    >>> (sortnregress(np.column_stack([x0, x1, x2])) != 0).astype(int)
    array([[0, 1, 0],
           [0, 0, 1],
           [0, 0, 0]])
    """
    X = _check_X(X)
    return sort_regress(X, X.var(axis=0))


def r2_sortnregress(
    X: np.ndarray, random_state: int | np.random.Generator | None = None
) -> np.ndarray:
    r"""R²-SortnRegress (Reisach, Tami, Seiler, Chambaz & Weichwald 2023).

    As :func:`sortnregress`, ordering by increasing :math:`R^2_j`, the
    coefficient of determination of :math:`X_j` regressed on all other
    variables (:func:`dagforge.metrics.r2_coefficients`). :math:`R^2` does not
    change when a column is rescaled, so neither does the learned graph:
    standardising the data leaves the edge set unchanged.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data, n > d, finite, no constant column.
    random_state : ignored
        Accepted for the common baseline signature; the method is deterministic.

    Returns
    -------
    ndarray of shape (d, d)
        Weighted adjacency of a DAG, ``W[i, j] != 0`` is ``i -> j``.
    """
    X = _check_X(X)
    return sort_regress(X, r2_coefficients(X))


BASELINES: dict[str, Baseline] = {
    "empty": empty,
    "sortnregress": sortnregress,
    "r2_sortnregress": r2_sortnregress,
}
"""Baselines by name; each is ``f(X, random_state=None) -> W``."""


def run_baseline(
    name: str, X: np.ndarray, random_state: int | np.random.Generator | None = None
) -> np.ndarray:
    """Run the baseline called ``name`` (a key of :data:`BASELINES`) on ``X``.

    Raises
    ------
    ConfigError
        If ``name`` is not a known baseline.
    DataError
        If ``X`` is unusable (not 2-D, not finite, n < 3, d < 2, ...).

    Examples
    --------
    >>> run_baseline("empty", np.ones((3, 2))).shape
    (2, 2)
    """
    try:
        fn = BASELINES[name]
    except KeyError:
        known = ", ".join(sorted(BASELINES))
        raise ConfigError(f"unknown baseline {name!r}; known baselines: {known}") from None
    return fn(X, random_state=random_state)
