r"""The linear-Gaussian BIC of a DAG and of its parent sets, from covariances.

Scores are lower-is-better. With :math:`r_j` the residual variance of variable
:math:`j` regressed (OLS) on its parents, computed from the covariance :math:`S_j` of
the :math:`n_j` rows that variable is scored on, and :math:`c = \kappa\,\frac{\log N}{2}
+ \gamma \log d` the cost of an edge (:func:`~dagforge.search.regression.edge_penalty`,
:math:`N` all rows):

* ``"unequal"`` noise variances (decomposable: a sum of one term per variable)

  .. math::  \mathrm{BIC}(G) = \sum_j s_j(P_j), \qquad
             s_j(P) = \frac{n_j}2 \log r_j(P) + c\,|P|

* ``"equal"`` noise variance (the model NOTEARS / DAGMA's least squares assumes), its
  maximum-likelihood value :math:`\hat\sigma^2 = \sum_j n_j r_j / \sum_j n_j`

  .. math::  \mathrm{BIC}(G) = \frac{\sum_j n_j}2 \log \hat\sigma^2 + c\,|E|

Observational data score every variable on all rows (one covariance, :math:`n_j = n`).
Under perfect interventions (:mod:`dagforge.search.scores.interventional`) variable
:math:`j` is scored on the rows of the regimes that did not intervene on it, the score of
GIES (Hauser & Bühlmann 2012): one covariance per set of variables intervened on in the
same regimes.

:math:`\kappa` is ``penalty`` (1 is BIC); ``gamma > 0`` gives the extended BIC of Chen &
Chen (2008) / Foygel & Drton (2010), which keeps the score from adding spurious edges
when each variable has many candidate parents.

:class:`GaussianScore` is the object the searches ask (as causal-learn's BOSS asks its
``LocalScoreFunction``): the fit of a variable on a parent set, and in closed form the
residual variance after adding any one variable to that set (partial covariances,
:math:`r_j - S_{ij\cdot P}^2 / S_{ii\cdot P}`) or removing any one parent
(:math:`r_j + \beta_p^2 / [S_{PP}^{-1}]_{pp}`). The fits and the add-one residual
variances are cached: the searches ask for the same parent sets many times over (a
move's check refits the set the move then installs, and grow-shrink asks again for the
set it just grew).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from dagforge.search.regression import R_FLOOR, edge_penalty, regress
from dagforge.search.scores.base import BoundedCache, ParentScore, frozen, parent_key
from dagforge.ties import score_tol

if TYPE_CHECKING:
    from dagforge.data import Dataset

__all__ = ["GaussianScore", "NoiseModel", "ParentFit", "bic_score", "from_data",
           "partial_residuals", "sample_covariance", "total_bic"]

NoiseModel = Literal["equal", "unequal"]

#: Floor of a residual variance inside a logarithm: a constant column has ``r = 0``.
LOG_FLOOR = 1e-300

#: Floats each of the scorer's two caches may hold (32 MiB); more barely adds hits (docs/tuning.md).
CACHE_FLOATS = 1 << 22


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


def partial_residuals(S: np.ndarray, diag: np.ndarray, f: ParentFit, j: int,
                      pa: np.ndarray, floor_partial: bool) -> np.ndarray:
    r"""Residual variance of ``j`` on ``pa`` plus ``i``, for every ``i``, from the fit
    ``f`` of ``j`` on ``pa``: :math:`r_j - S_{ij\cdot P}^2 / S_{ii\cdot P}`, floored at
    ``R_FLOOR * S_jj``; shape (d,). ``floor_partial`` floors :math:`S_{ii\cdot P}` at
    ``R_FLOOR * S_ii`` first."""
    if len(pa):
        Z = f.R @ S[pa, :]  # [p, d]; Z^T Z = S_:P inv(S_PP) S_P:
        cov = S[:, j] - Z.T @ Z[:, j]  # [d] partial covariances with j given P
        var = diag - (Z * Z).sum(0)  # [d] partial variances given P
    else:
        cov, var = S[:, j], diag
    if floor_partial:
        var = np.maximum(var, R_FLOOR * diag)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.maximum(f.r - cov**2 / var, R_FLOOR * diag[j])  # [d]


class GaussianScore(ParentScore):
    r"""Parent-set scorer of the linear-Gaussian (extended) BIC; the statistic of a
    parent set is the residual variance.

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
    S : ndarray of shape (d, d)
        The covariance of all rows (the one every variable is scored on, for
        observational data).
    n_node : ndarray of shape (d,)
        Rows each variable is scored on.
    """

    def __init__(self, S: np.ndarray, n: int, *, noise: NoiseModel = "unequal",
                 penalty: float = 1.0, gamma: float = 0.0,
                 cache_floats: int = CACHE_FLOATS) -> None:
        S = np.asarray(S, dtype=float)  # [d, d]
        d = S.shape[0]
        self._setup([S], np.zeros(d, dtype=np.intp), np.full(d, float(n)), S, n,
                    noise=noise, penalty=penalty, gamma=gamma, cache_floats=cache_floats)

    @classmethod
    def grouped(cls, covariances: Sequence[np.ndarray], group: np.ndarray,
                n_node: np.ndarray, S: np.ndarray, n: int, *, noise: NoiseModel = "unequal",
                penalty: float = 1.0, gamma: float = 0.0,
                cache_floats: int = CACHE_FLOATS) -> GaussianScore:
        """A scorer whose variable ``j`` is scored on ``covariances[group[j]]`` of
        ``n_node[j]`` rows (interventional data); ``S`` / ``n`` are all rows'."""
        self = cls.__new__(cls)
        self._setup([np.asarray(C, dtype=float) for C in covariances],
                    np.asarray(group, dtype=np.intp), np.asarray(n_node, dtype=float),
                    np.asarray(S, dtype=float), n, noise=noise, penalty=penalty,
                    gamma=gamma, cache_floats=cache_floats)
        return self

    def _setup(self, covariances: list[np.ndarray], group: np.ndarray, n_node: np.ndarray,
               S: np.ndarray, n: int, *, noise: NoiseModel, penalty: float, gamma: float,
               cache_floats: int) -> None:
        self.S, self.n, self.d = S, int(n), S.shape[0]
        self.noise = noise
        self._covs = covariances  # [G] of [d, d]
        self._diags = [np.diag(C).copy() for C in covariances]  # [G] of [d]
        self._group = group  # [d] covariance of each variable
        self.n_node = n_node  # [d]
        self.n_total = float(n_node.sum())
        self.edge_cost = edge_penalty(n, self.d, penalty, gamma)
        self.tol = score_tol(n)
        self._fits = BoundedCache(cache_floats)
        self._adds = BoundedCache(cache_floats)

    @property
    def decomposable(self) -> bool:
        return self.noise == "unequal"

    def with_noise(self, noise: NoiseModel) -> GaussianScore:
        """The same score under the noise model ``noise``, sharing the fits' caches
        (a fit does not depend on the noise model)."""
        other = copy.copy(self)
        other.noise = noise
        return other

    def covariance(self, j: int) -> np.ndarray:
        """The covariance variable ``j`` is scored on; shape (d, d)."""
        return self._covs[self._group[j]]

    # -- one parent set ---------------------------------------------------------------

    def fit(self, j: int, parents: Sequence[int] | np.ndarray) -> ParentFit:
        """OLS of ``j`` on ``parents`` (cached; the order of ``parents`` is kept)."""
        pa, key = parent_key(parents)

        def make() -> tuple[ParentFit, int]:
            beta, r, R = regress(self.covariance(j), pa, j)
            return ParentFit(frozen(beta), r, frozen(R)), R.size + beta.size + 1

        return self._fits.get((j, key), make)

    def stat(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        """Residual variance of ``j`` on ``parents``."""
        return self.fit(j, parents).r

    def add_stats(self, j: int, parents: Sequence[int] | np.ndarray, *,
                  floor_partial: bool = True) -> np.ndarray:
        r"""Residual variance of ``j`` on ``parents`` plus ``i``, for every ``i`` (cached):
        :func:`partial_residuals`; read-only, shape (d,).

        ``floor_partial`` floors the partial variance :math:`S_{ii\cdot P}` at
        ``R_FLOOR * S_ii`` before dividing. The hill climb passes False: it refits each
        move it takes, and the floor would change which candidates it tries.
        """
        pa, key = parent_key(parents)

        def make() -> tuple[np.ndarray, int]:
            g = self._group[j]
            r_add = partial_residuals(self._covs[g], self._diags[g], self.fit(j, pa), j, pa,
                                      floor_partial)
            return frozen(r_add), self.d

        return self._adds.get((j, key, floor_partial), make)

    def remove_stats(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        r"""Residual variance of ``j`` on ``parents`` without ``parents[k]``, for every ``k``:
        :math:`r_j + \beta_k^2 / [S_{PP}^{-1}]_{kk}`; shape (p,)."""
        f = self.fit(j, parents)
        return f.r + f.beta**2 / (f.R * f.R).sum(0)  # [p]; colsum(R * R) = diag(inv(S_PP))

    # -- score terms ------------------------------------------------------------------

    def fit_term(self, j: int, stat: float) -> float:
        """``n_j / 2 log r`` (the decomposable ``"unequal"`` term)."""
        return 0.5 * self.n_node[j] * float(np.log(stat))

    def fit_changes(self, j: int, new: np.ndarray | float, old: float) -> Any:
        """Change of ``j``'s fit term for each candidate residual variance ``new``."""
        return 0.5 * self.n_node[j] * np.log(new / old)

    def fit_delta(self, stats: np.ndarray,
                  *changes: tuple[np.ndarray | int, np.ndarray | float]) -> Any:
        r"""Change of the graph score's fit term when residual variances change
        (:meth:`ParentScore.fit_delta`).

        ``"unequal"``: :math:`\sum \frac{n_j}2 (\log r_{new} - \log r)`;
        ``"equal"``: :math:`\frac{N}2 [\log(T - \sum n_j r_{old} + \sum n_j r_{new})
        - \log T]` with :math:`T = \sum_j n_j r_j`, :math:`N = \sum_j n_j`.
        """
        w = self.n_node
        if self.noise == "unequal":
            diff: Any = 0.0
            for nodes, new in changes:
                diff = diff + w[nodes] * (np.log(np.maximum(new, LOG_FLOOR))
                                          - np.log(np.maximum(stats[nodes], LOG_FLOOR)))
            return 0.5 * diff
        total = float(w @ stats)
        moved: Any = 0.0
        for nodes, new in changes:
            moved = moved + w[nodes] * (np.maximum(new, LOG_FLOOR) - stats[nodes])
        return 0.5 * self.n_total * (np.log(np.maximum(total + moved, LOG_FLOOR))
                                     - np.log(total))

    # -- whole graphs -----------------------------------------------------------------

    def score(self, A: np.ndarray) -> float:
        """The (extended) BIC of the graph ``A`` (non-zero ``A[i, j]``: ``i -> j``)."""
        r = np.maximum(self.stats(A), LOG_FLOOR)  # [d]
        if self.noise == "unequal":
            fit = 0.5 * float(self.n_node @ np.log(r))
        else:
            fit = 0.5 * self.n_total * float(np.log(self.n_node @ r / self.n_total))
        return float(fit + self.edge_cost * np.count_nonzero(A))

    def total(self, A: np.ndarray, penalty: float = 1.0) -> float:
        """:meth:`score` plus the BIC cost of the noise variances (one for ``"equal"``,
        ``d`` for ``"unequal"``): comparable across noise models."""
        n_var = 1 if self.noise == "equal" else self.d
        return self.score(A) + penalty * 0.5 * float(np.log(self.n)) * n_var

    def weights(self, A: np.ndarray) -> np.ndarray:
        """OLS weights of the linear SEM on ``A``, each variable on its own rows."""
        W = np.zeros((self.d, self.d))
        for j in range(self.d):
            pa = np.flatnonzero(A[:, j])
            if len(pa):
                W[pa, j] = self.fit(j, pa).beta
        return W


def sample_covariance(X: np.ndarray) -> np.ndarray:
    r"""Centred second-moment matrix :math:`(X - \bar X)^\top (X - \bar X) / n`; (d, d)."""
    Xc = X - X.mean(axis=0)  # [n, d]
    return Xc.T @ Xc / X.shape[0]


def from_data(data: Dataset, *, noise: NoiseModel = "unequal", penalty: float = 1.0,
              gamma: float = 0.0) -> GaussianScore:
    """The score of the registry's ``"gaussian"`` entry: every variable on all rows."""
    return GaussianScore(sample_covariance(data.values), data.n, noise=noise,
                         penalty=penalty, gamma=gamma)


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
    """Score of graph ``A`` that can be compared across noise models
    (:meth:`GaussianScore.total`)."""
    return GaussianScore(S, n, noise=noise, penalty=penalty, gamma=gamma).total(A, penalty)
