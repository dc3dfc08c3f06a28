"""Ordinary least squares of one variable on others from a covariance matrix, the OLS
weights of a whole graph, and the BIC cost of an edge: the pieces the linear-Gaussian
scores of :mod:`dagforge.search.score` are built from."""

from __future__ import annotations

import numpy as np
from scipy.linalg.lapack import dpotrf, dtrtri

__all__ = ["R_FLOOR", "edge_penalty", "ols_weights", "regress"]


#: Smallest residual variance, relative to the variable's variance, that the scores
#: take at face value: below it the difference of two nearly equal numbers is rounding.
R_FLOOR = 1e-12


def regress(S: np.ndarray, parents: np.ndarray,
            j: int) -> tuple[np.ndarray, float, np.ndarray]:
    r"""OLS of ``j`` on ``parents`` from the covariance ``S``.

    The residual variance :math:`S_{jj} - s^\top S_{PP}^{-1} s` (with :math:`s =
    S_{Pj}`) is computed as :math:`S_{jj} - \lVert z\rVert^2` with :math:`z = L^{-1} s`
    from the Cholesky factor :math:`L` of the equilibrated :math:`S_{PP}`: raw
    variables' variances can differ by :math:`10^9` (scale-free graphs), and a residual
    variance a billionth of the variable's is then lost entirely by the textbook
    formula through :math:`S_{PP}^{-1}` (error :math:`\sim \mathrm{cond}(S_{PP})\,
    \epsilon\, S_{jj}`), but kept to a few digits this way (error :math:`\sim
    \sqrt{\mathrm{cond}}\,\epsilon\, S_{jj}`). A numerically singular :math:`S_{PP}`
    falls back to its eigen-decomposition (a pseudo-inverse).

    Parameters
    ----------
    S : ndarray of shape (d, d)
        Covariance of the (centred) data.
    parents : int ndarray of shape (p,)
        The regressors, in the order the coefficients come back in.
    j : int
        The regressed variable.

    Returns
    -------
    beta : ndarray of shape (p,)
        OLS coefficients.
    r : float
        Residual variance, at least ``R_FLOOR * S[j, j]``.
    R : ndarray of shape (p, p)
        Inverse factor with :math:`R^\top R = S_{PP}^{-1}`.
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


def ols_weights(S: np.ndarray, A: np.ndarray) -> np.ndarray:
    """Weights of the linear SEM on the graph ``A`` fitted by OLS from the covariance ``S``.

    Parameters
    ----------
    S : ndarray of shape (d, d)
        Covariance of the (centred) data.
    A : ndarray of shape (d, d)
        The graph (non-zero ``A[i, j]``: ``i -> j``).

    Returns
    -------
    ndarray of shape (d, d)
        ``W[i, j]``: the coefficient of ``i`` in the regression of ``j`` on its parents.
    """
    W = np.zeros_like(S, dtype=float)
    for j in range(S.shape[0]):
        pa = np.flatnonzero(A[:, j])
        if len(pa):
            W[pa, j] = regress(S, pa, j)[0]
    return W


def edge_penalty(n: int, d: int, penalty: float = 1.0, gamma: float = 0.0) -> float:
    r"""Score cost of one edge, :math:`\kappa \log(n) / 2 + \gamma \log d`.

    ``penalty`` (:math:`\kappa`) 1 is BIC; ``gamma > 0`` adds the extended-BIC term of
    Chen & Chen (2008) / Foygel & Drton (2010).
    """
    return penalty * 0.5 * float(np.log(n)) + gamma * float(np.log(d))
