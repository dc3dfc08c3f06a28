"""Ordinary least squares of one variable on others, from a covariance matrix, and the
BIC cost of an edge: the pieces the linear-Gaussian scores of :mod:`dagforge.refine`
and :mod:`dagforge.order_search` are built from."""

from __future__ import annotations

import numpy as np
from scipy.linalg.lapack import dpotrf, dtrtri

__all__ = ["R_FLOOR", "edge_penalty", "regress"]


#: Smallest residual variance, relative to the variable's variance, that the scores
#: take at face value: below it the difference of two nearly equal numbers is rounding.
R_FLOOR = 1e-12


def regress(S: np.ndarray, parents: np.ndarray,
            j: int) -> tuple[np.ndarray, float, np.ndarray]:
    """OLS of ``j`` on ``parents`` from ``S``: (coefficients, residual variance, ``R``)
    with ``R^T R = inv(S_PP)`` (``R`` of shape (p, p)).

    The residual variance ``S_jj - s^T S_PP^{-1} s`` is computed as ``S_jj - |z|^2``
    with ``z = L^{-1} s`` from the Cholesky factor ``L`` of the equilibrated
    ``S_PP``: raw variables' variances can differ by 10^9 (scale-free graphs), and
    a residual variance a billionth of the variable's is then lost entirely by the
    textbook formula through ``inv(S_PP)`` (error ~ cond(S_PP) * eps * S_jj), but
    kept to a few digits this way (error ~ sqrt(cond) * eps * S_jj). A numerically
    singular ``S_PP`` falls back to its eigen-decomposition (a pseudo-inverse).
    """
    if len(parents) == 0:
        return np.zeros(0), float(S[j, j]), np.zeros((0, 0))
    sd = np.sqrt(np.diag(S)[parents])  # [p]
    C = S[np.ix_(parents, parents)] / np.outer(sd, sd)  # correlation of the parents, [p, p]
    # LAPACK directly: this runs tens of thousands of times per search, on small matrices
    L, info = dpotrf(C, lower=1, clean=1)  # [p, p], lower Cholesky factor
    if info == 0:
        Linv, info = dtrtri(L, lower=1)  # [p, p]
    if info != 0:  # numerically singular
        e, V = np.linalg.eigh(C)
        Linv = (V / np.sqrt(np.maximum(e, 1e-15))).T  # Linv^T Linv = pinv(C)
    R = Linv / sd[None, :]  # [p, p], R^T R = inv(S_PP)
    z = R @ S[parents, j]  # [p]
    beta = R.T @ z  # [p]
    r = max(float(S[j, j] - z @ z), R_FLOOR * float(S[j, j]))
    return beta, r, R


def edge_penalty(n: int, d: int, penalty: float = 1.0, gamma: float = 0.0) -> float:
    """Score cost of one edge: ``penalty * log(n) / 2 + gamma * log(d)``."""
    return penalty * 0.5 * float(np.log(n)) + gamma * float(np.log(d))
