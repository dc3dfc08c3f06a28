r"""The linear-Gaussian BIC of a DAG and of its parent sets, from the covariance.

Scores are lower-is-better. With :math:`r_j` the residual variance of variable
:math:`j` regressed (OLS) on its parents, computed from the covariance :math:`S` of
:math:`n` rows, and :math:`c = \kappa\,\frac{\log n}{2} + \gamma \log d` the cost of an
edge (:func:`~dagforge.search.regression.edge_penalty`):

* ``"unequal"`` noise variances (decomposable: a sum of one term per variable)

  .. math::  \mathrm{BIC}(G) = \sum_j s_j(P_j), \qquad
             s_j(P) = \frac n2 \log r_j(P) + c\,|P|

* ``"equal"`` noise variance (the model NOTEARS / DAGMA's least squares assumes)

  .. math::  \mathrm{BIC}(G) = \frac{nd}2 \log\Big(\frac1d\sum_j r_j\Big) + c\,|E|

:math:`\kappa` is ``penalty`` (1 is BIC); ``gamma > 0`` gives the extended BIC of Chen &
Chen (2008) / Foygel & Drton (2010), which keeps the score from adding spurious edges
when each variable has many candidate parents.

:class:`GaussianScore` is the one object the searches ask (as causal-learn's BOSS asks
its ``LocalScoreFunction``): the fit of a variable on a parent set, and in closed form
the residual variance after adding any one variable to that set (partial covariances,
:math:`r_j - S_{ij\cdot P}^2 / S_{ii\cdot P}`) or removing any one parent
(:math:`r_j + \beta_p^2 / [S_{PP}^{-1}]_{pp}`), the local term :math:`s_j`, and the change
of the graph's fit term when some residual variances change, for either noise model.
The fits and the add-one residual variances are cached: the searches ask for the same
parent sets many times over (a move's check refits the set the move then installs, and
grow-shrink asks again for the set it just grew).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from dagforge.search.regression import R_FLOOR, edge_penalty, regress
from dagforge.ties import score_tol

__all__ = ["GaussianScore", "NoiseModel", "ParentFit", "bic_score", "total_bic"]

NoiseModel = Literal["equal", "unequal"]

#: Floor of a residual variance inside a logarithm: a constant column has ``r = 0``.
_LOG_FLOOR = 1e-300

#: Floats each of the scorer's two caches may hold (32 MiB); more barely adds hits (docs/tuning.md).
_CACHE_FLOATS = 1 << 22


@dataclass(frozen=True, eq=False)
class ParentFit:
    """OLS of one variable on one parent set (see :func:`~dagforge.search.regression.regress`).

    Attributes
    ----------
    beta : ndarray of shape (p,)
        Coefficients, in the order of the parents as given.
    r : float
        Residual variance.
    R : ndarray of shape (p, p)
        Inverse factor, ``R.T @ R = inv(S_PP)``.
    """

    beta: np.ndarray
    r: float
    R: np.ndarray


class _BoundedCache:
    """A dict holding at most ``budget`` floats; the oldest entries leave first."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._data: dict[Hashable, tuple[Any, int]] = {}
        self._size = 0

    def get(self, key: Hashable, make: Callable[[], tuple[Any, int]]) -> Any:
        """The value stored under ``key``, or ``make()``'s ``(value, n_floats)`` stored now."""
        hit = self._data.get(key)
        if hit is not None:
            return hit[0]
        value, size = make()
        self._data[key] = (value, size)
        self._size += size
        while self._size > self.budget and self._data:
            oldest = next(iter(self._data))  # dicts keep insertion order
            self._size -= self._data.pop(oldest)[1]
        return value


def _frozen(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only: a cached array is shared by every caller."""
    a.flags.writeable = False
    return a


class GaussianScore:
    r"""Parent-set scorer of the linear-Gaussian (extended) BIC for one covariance.

    Parameters
    ----------
    S : ndarray of shape (d, d)
        Covariance of the (centred) data.
    n : int
        Number of rows the covariance was computed from.
    noise : {"unequal", "equal"}
        Noise-variance model of the graph score (:meth:`score`, :meth:`fit_delta`).
        The local term :meth:`local` is the decomposable ``"unequal"`` one.
    penalty : float
        Multiplier :math:`\kappa` of the BIC penalty (1 = BIC).
    gamma : float
        Extended-BIC weight: each edge also costs ``gamma * log(d)``.
    cache_floats : int
        Floats each of the two caches (fits, add-one residual variances) may hold;
        0 turns caching off.

    Attributes
    ----------
    edge_cost : float
        Score cost of one edge, :math:`c`.
    tol : float
        Score differences below it are ties (:func:`dagforge.ties.score_tol`).
    """

    def __init__(self, S: np.ndarray, n: int, *, noise: NoiseModel = "unequal",
                 penalty: float = 1.0, gamma: float = 0.0,
                 cache_floats: int = _CACHE_FLOATS) -> None:
        self.S = np.asarray(S, dtype=float)  # [d, d]
        self.n = n
        self.d = self.S.shape[0]
        self.noise = noise
        self.edge_cost = edge_penalty(n, self.d, penalty, gamma)
        self.tol = score_tol(n)
        self.diag = np.diag(self.S).copy()  # [d]
        self._fits = _BoundedCache(cache_floats)
        self._adds = _BoundedCache(cache_floats)

    # -- one parent set ---------------------------------------------------------------

    def fit(self, j: int, parents: Sequence[int] | np.ndarray) -> ParentFit:
        """OLS of ``j`` on ``parents`` (cached; the order of ``parents`` is kept)."""
        pa = np.asarray(parents, dtype=np.intp)  # [p]

        def make() -> tuple[ParentFit, int]:
            beta, r, R = regress(self.S, pa, j)
            return ParentFit(_frozen(beta), r, _frozen(R)), R.size + beta.size + 1

        return self._fits.get((j, pa.tobytes()), make)

    def add_residuals(self, j: int, parents: Sequence[int] | np.ndarray, *,
                      floor_partial: bool = True) -> np.ndarray:
        r"""Residual variance of ``j`` on ``parents`` plus ``i``, for every ``i`` (cached).

        :math:`r_j - S_{ij\cdot P}^2 / S_{ii\cdot P}`, floored at ``R_FLOOR * S_jj``;
        meaningless for ``i`` in ``parents`` or ``i == j``.

        Parameters
        ----------
        floor_partial : bool
            Floor the partial variance :math:`S_{ii\cdot P}` at ``R_FLOOR * S_ii``
            before dividing. The hill climb passes False: it refits each move it
            takes, and the floor would change which candidates it tries.

        Returns
        -------
        ndarray of shape (d,), read-only
        """
        pa = np.asarray(parents, dtype=np.intp)  # [p]

        def make() -> tuple[np.ndarray, int]:
            f = self.fit(j, pa)
            if len(pa):
                Z = f.R @ self.S[pa, :]  # [p, d]; Z^T Z = S_:P inv(S_PP) S_P:
                cov = self.S[:, j] - Z.T @ Z[:, j]  # [d] partial covariances with j given P
                var = self.diag - (Z * Z).sum(0)  # [d] partial variances given P
            else:
                cov, var = self.S[:, j], self.diag
            if floor_partial:
                var = np.maximum(var, R_FLOOR * self.diag)
            with np.errstate(divide="ignore", invalid="ignore"):
                r_add = np.maximum(f.r - cov**2 / var, R_FLOOR * self.diag[j])  # [d]
            return _frozen(r_add), self.d

        return self._adds.get((j, pa.tobytes(), floor_partial), make)

    def remove_residuals(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        r"""Residual variance of ``j`` on ``parents`` without ``parents[k]``, for every ``k``:
        :math:`r_j + \beta_k^2 / [S_{PP}^{-1}]_{kk}`; shape (p,)."""
        f = self.fit(j, parents)
        return f.r + f.beta**2 / (f.R * f.R).sum(0)  # [p]; colsum(R * R) = diag(inv(S_PP))

    # -- score terms ------------------------------------------------------------------

    def local(self, r: float, n_parents: int) -> float:
        """Local term ``s_j`` of a variable with residual variance ``r`` (``"unequal"``)."""
        return 0.5 * self.n * float(np.log(r)) + self.edge_cost * n_parents

    def local_change(self, r_new: float, r: float, d_parents: int) -> float:
        """Change of ``s_j`` when its residual variance goes ``r -> r_new`` and its
        number of parents changes by ``d_parents``."""
        return 0.5 * self.n * float(np.log(r_new / r)) + self.edge_cost * d_parents

    def fit_changes(self, r_new: np.ndarray, r: float) -> np.ndarray:
        """Change of the fit part of ``s_j`` for each candidate residual variance ``r_new``
        (the edge cost left out), in score units so that near-equal candidates tie."""
        return 0.5 * self.n * np.log(r_new / r)

    def fit_delta(self, r: np.ndarray,
                  *changes: tuple[np.ndarray | int, np.ndarray | float]) -> Any:
        r"""Change of the graph score's fit term when residual variances change.

        Parameters
        ----------
        r : ndarray of shape (d,)
            Current residual variances.
        *changes : (nodes, r_new) pairs
            Variables ``nodes`` get residual variances ``r_new`` (broadcast together,
            so one call scores a whole matrix of candidate moves). A move that changes
            two variables (a reversal) passes two pairs.

        Returns
        -------
        float or ndarray
            ``"unequal"``: :math:`\frac n2 \sum (\log r_{new} - \log r)`;
            ``"equal"``: :math:`\frac{nd}2 [\log(\sum r - \sum r_{old} + \sum r_{new})
            - \log \sum r]`.
        """
        if self.noise == "unequal":
            diff: Any = 0.0
            for nodes, new in changes:
                diff = diff + (np.log(np.maximum(new, _LOG_FLOOR))
                               - np.log(np.maximum(r[nodes], _LOG_FLOOR)))
            return 0.5 * self.n * diff
        total = r.sum()
        old: Any = 0.0
        added: Any = 0.0
        for nodes, new in changes:
            old = old + r[nodes]
            added = added + np.maximum(new, _LOG_FLOOR)
        return 0.5 * self.n * self.d * (np.log(np.maximum(total - old + added, _LOG_FLOOR))
                                         - np.log(total))

    # -- whole graphs -----------------------------------------------------------------

    def score(self, A: np.ndarray) -> float:
        """The (extended) BIC of the graph ``A`` (non-zero ``A[i, j]``: ``i -> j``)."""
        r = np.array([self.fit(j, np.flatnonzero(A[:, j])).r for j in range(self.d)])  # [d]
        r = np.maximum(r, _LOG_FLOOR)
        if self.noise == "unequal":
            fit = 0.5 * self.n * np.log(r).sum()
        else:
            fit = 0.5 * self.n * self.d * np.log(r.mean())
        return float(fit + self.edge_cost * np.count_nonzero(A))


def bic_score(S: np.ndarray, n: int, A: np.ndarray, noise: NoiseModel = "unequal",
              penalty: float = 1.0, gamma: float = 0.0) -> float:
    """The (extended) BIC of graph ``A`` (lower is better); see the module docstring.

    Parameters
    ----------
    S : ndarray of shape (d, d)
        Covariance of the (centred) data.
    n : int
        Number of rows the covariance was computed from.
    A : ndarray of shape (d, d)
        The graph (non-zero ``A[i, j]``: ``i -> j``).
    noise : {"unequal", "equal"}
        Noise-variance model.
    penalty, gamma : float
        Edge cost ``penalty * log(n) / 2 + gamma * log(d)``.
    """
    return GaussianScore(S, n, noise=noise, penalty=penalty, gamma=gamma).score(A)


def total_bic(S: np.ndarray, n: int, A: np.ndarray, noise: NoiseModel, penalty: float = 1.0,
              gamma: float = 0.0) -> float:
    """Score of graph ``A`` that can be compared across noise models: :func:`bic_score`
    plus the BIC cost of the noise variances (one for ``"equal"``, ``d`` for ``"unequal"``)."""
    n_var = 1 if noise == "equal" else S.shape[0]
    return bic_score(S, n, A, noise, penalty, gamma) + penalty * 0.5 * float(np.log(n)) * n_var
