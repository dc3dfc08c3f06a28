"""Sortability diagnostics of data: how far marginal variance or R² alone reveal a
causal order (Reisach et al. 2021, 2023)."""

from __future__ import annotations

import logging
import math

import numpy as np

from dagforge.errors import DataError, GraphError
from dagforge.graph import is_dag
from dagforge.metrics._checks import as_graph

__all__ = ["r2_coefficients", "r2_sortability", "varsortability"]

logger = logging.getLogger(__name__)


def _check_data(X: np.ndarray, d: int | None = None) -> np.ndarray:
    """``X`` as a finite float (n, d) array with n >= 2 and no constant column."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise DataError(f"X must be a 2-D (n, d) array, got {X.ndim} dimension(s)")
    if d is not None and X.shape[1] != d:
        raise DataError(f"X has {X.shape[1]} columns but the graph has {d} variables")
    if X.shape[0] < 2:
        raise DataError(f"X needs at least 2 rows, got {X.shape[0]}")
    if not np.all(np.isfinite(X)):
        raise DataError("X contains NaN or infinite values")
    const = np.flatnonzero(np.ptp(X, axis=0) == 0)
    if len(const):
        raise DataError(f"column {int(const[0])} of X is constant")
    return X


def r2_coefficients(X: np.ndarray) -> np.ndarray:
    r"""Coefficient of determination of each variable regressed on all the others.

    .. math::

        R^2_j = 1 - \frac{\mathrm{RSS}_j}{\mathrm{TSS}_j}
              = 1 - \frac{1}{(\Sigma^{-1})_{jj}},

    for OLS with intercept of column ``j`` on the other columns, where
    :math:`\Sigma` is the correlation matrix (the second form). When
    :math:`\Sigma` is (near) singular the regressions are solved one by one
    with least squares instead. It is invariant to rescaling any column.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data, n >= 2, no constant column.

    Returns
    -------
    ndarray of shape (d,)
        Values in [0, 1].

    Examples
    --------
    With mutually orthogonal zero-mean ``u, v, w`` of equal norm and columns
    ``u, u + v, u + v + w``: :math:`R^2 = (1/2, 3/4, 2/3)`.

    >>> u, v, w = np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]], dtype=float)
    >>> X = np.column_stack([u, u + v, u + v + w])
    >>> np.round(r2_coefficients(X), 4)
    array([0.5   , 0.75  , 0.6667])
    """
    X = _check_data(X)
    d = X.shape[1]
    Xc = X - X.mean(axis=0)  # [n, d]
    Z = Xc / np.linalg.norm(Xc, axis=0)  # unit-norm columns  [n, d]
    corr = Z.T @ Z  # [d, d]
    r2: np.ndarray | None = None
    if np.linalg.cond(corr) < 1e10:
        r2 = 1.0 - 1.0 / np.diag(np.linalg.inv(corr))
    if r2 is None or not np.all(np.isfinite(r2)):
        logger.debug("correlation matrix near singular; R^2 by per-variable least squares")
        r2 = np.empty(d)
        for j in range(d):
            others = np.arange(d) != j
            coef, *_ = np.linalg.lstsq(Z[:, others], Z[:, j], rcond=None)
            resid = Z[:, j] - Z[:, others] @ coef
            r2[j] = 1.0 - float(resid @ resid)  # TSS of a unit-norm centred column is 1
    return np.clip(r2, 0.0, 1.0)


def _order_alignment(B: np.ndarray, increase: np.ndarray, tie: np.ndarray) -> float:
    r"""Share of (pair, length) path counts along which a score increases, ties 1/2.

    ``increase[i, j]`` / ``tie[i, j]``: the score of ``j`` is larger than / equal
    to that of ``i``. For k = 1 .. d-1, every pair ``(i, j)`` joined by a
    directed path of exactly k edges counts once (the boolean k-step
    reachability :math:`B^k \ne 0`), as in the reference implementation of
    Reisach et al. (2021).
    """
    d = B.shape[0]
    Bi = B.astype(np.int64)
    Ek = B.copy()
    n_paths = 0
    n_right = 0.0
    for _ in range(d - 1):
        if not Ek.any():
            break
        n_paths += int(Ek.sum())
        n_right += float(np.sum(Ek & increase)) + 0.5 * float(np.sum(Ek & tie))
        Ek = (Ek.astype(np.int64) @ Bi) > 0
    if n_paths == 0:
        logger.debug("graph has no edge; sortability is NaN")
        return math.nan
    return n_right / n_paths


def _dag_for_sortability(B: np.ndarray) -> np.ndarray:
    E = as_graph(B, "B")
    if not is_dag(E):
        raise GraphError("sortability needs a DAG; B has a directed cycle")
    return E


def varsortability(X: np.ndarray, B: np.ndarray, *, tol: float = 1e-9) -> float:
    r"""Var-sortability (Reisach, Seiler & Weichwald 2021, "Beware of the simulated DAG!").

    The fraction of directed paths along which the marginal variance strictly
    increases, a tie counting 1/2:

    .. math::

        v = \frac{\sum_{k=1}^{d-1} \sum_{i \to_k j}
                  \left(\mathbb 1[\sigma^2_j > \sigma^2_i (1 + \mathrm{tol})]
                  + \tfrac12 \mathbb 1[|\sigma^2_j / \sigma^2_i - 1| \le \mathrm{tol}]\right)}
                 {\sum_{k=1}^{d-1} \#\{i \to_k j\}},

    where :math:`i \to_k j` ranges over the pairs joined by a directed path of
    exactly ``k`` edges (:math:`(B^k)_{ij} \ne 0`; a pair joined by paths of
    several lengths counts once per length, as in the authors' code). ``v = 1``:
    sorting by variance recovers a causal order; ``v = 1/2``: variance carries no
    hint; ``v = 0``: variance decreases along every path. NaN for a graph
    without edges.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Data (population variances ``ddof=0`` are used; ratios do not depend on it).
    B : ndarray of shape (d, d)
        A DAG, ``B[i, j] != 0`` is ``i -> j``.
    tol : float
        Relative tolerance under which two variances are a tie.

    Examples
    --------
    Chain ``0 -> 1 -> 2``; paths (0,1), (1,2) (length 1) and (0,2) (length 2).
    Variances 1, 4, 9 increase along all three; reversed, along none:

    >>> X = np.array([[1.0, 2.0, 3.0], [-1.0, -2.0, -3.0]])
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> varsortability(X, chain), varsortability(X, chain.T)
    (1.0, 0.0)

    With variances 1, 1, 4 the pair (0, 1) is a tie: (1/2 + 1 + 1) / 3.

    >>> X = np.array([[1.0, 1.0, 2.0], [-1.0, -1.0, -2.0]])
    >>> round(varsortability(X, chain), 4)
    0.8333
    """
    if not tol >= 0:
        raise DataError(f"tol must be >= 0, got {tol}")
    E = _dag_for_sortability(B)
    X = _check_data(X, d=E.shape[0])
    var = X.var(axis=0)  # [d], all > 0 (no constant column)
    ratio = var[None, :] / var[:, None]  # [i, j] = var_j / var_i
    increase = ratio > 1.0 + tol
    tie = (ratio <= 1.0 + tol) & (ratio >= 1.0 - tol)
    return _order_alignment(E, increase, tie)


def r2_sortability(X: np.ndarray, B: np.ndarray, *, tol: float = 1e-9) -> float:
    r"""R²-sortability (Reisach, Tami, Seiler, Chambaz & Weichwald 2023).

    As :func:`varsortability`, with the marginal variance replaced by
    :math:`R^2_j`, the coefficient of determination of variable ``j`` regressed
    on all the others (:func:`r2_coefficients`); a tie is
    :math:`|R^2_j - R^2_i| \le \mathrm{tol}`. Unlike var-sortability it is
    invariant to rescaling the variables, so standardising the data does not
    change it. NaN for a graph without edges.

    Examples
    --------
    Columns ``u, u + v, u + v + w`` (``u, v, w`` orthogonal, zero mean, equal
    norm) have :math:`R^2 = (1/2, 3/4, 2/3)`. Along the chain ``0 -> 1 -> 2``,
    R² rises on (0, 1) and (0, 2) and falls on (1, 2): 2/3. With two variables
    both R² equal the squared correlation, so every edge is a tie: 1/2.

    >>> u, v, w = np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]], dtype=float)
    >>> X = np.column_stack([u, u + v, u + v + w])
    >>> chain = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    >>> round(r2_sortability(X, chain), 4)
    0.6667
    >>> r2_sortability(np.column_stack([u, u + v]), np.array([[0, 1], [0, 0]]))
    0.5
    """
    if not tol >= 0:
        raise DataError(f"tol must be >= 0, got {tol}")
    E = _dag_for_sortability(B)
    X = _check_data(X, d=E.shape[0])
    r2 = r2_coefficients(X)  # [d]
    diff = r2[None, :] - r2[:, None]  # [i, j] = R2_j - R2_i
    return _order_alignment(E, diff > tol, np.abs(diff) <= tol)
