r"""Gaussian BIC scores of interventional data: perfect (GIES) and soft interventions.

*Perfect* interventions (:func:`perfect_from_data`, the score of GIES: Hauser &
Bühlmann 2012): in a regime that intervened on :math:`j`, :math:`j`'s mechanism is
replaced, so its local term is fitted on, and sums over, the rows of the other regimes
only (:math:`n_j` rows, one pooled covariance per set of variables intervened on in the
same regimes: :meth:`dagforge.regimes.RegimeMoments.variable_groups`)

.. math::  s_j(P) = \frac{n_j}2 \log r_j(P) + c\,|P|.

It is :class:`~dagforge.search.scores.gaussian.GaussianScore` with one covariance per
variable group; it has both noise models.

*Soft* interventions (:class:`SoftInterventionScore`): in a regime :math:`k` that
intervened on :math:`j`, :math:`j` keeps its parents but gets its own mechanism there
(its own coefficients, intercept and noise variance), fitted on the rows of :math:`k`
alone. The local term adds one Gaussian term per such regime and charges each parent
once per mechanism:

.. math::  s_j(P) = \frac{n_j}2 \log r_j(P) + \sum_{k \ni j} \frac{n_k}2 \log r_{j,k}(P)
           + c\,(1 + |\{k \ni j\}|)\,|P|.

The experiments orient edges because a mechanism that stays the same across regimes
fits the pooled rows with one set of parameters only in the causal direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dagforge.search.regression import edge_penalty
from dagforge.search.scores.base import FitTermScore
from dagforge.search.scores.gaussian import GaussianScore, NoiseModel
from dagforge.ties import score_tol

if TYPE_CHECKING:
    from dagforge.data import Dataset
    from dagforge.regimes import RegimeMoments

__all__ = ["SoftInterventionScore", "perfect_from_data", "soft_from_data"]


def _perfect(moments: RegimeMoments, S: np.ndarray, n: int, *, noise: NoiseModel,
             penalty: float, gamma: float) -> GaussianScore:
    keeps, group = moments.variable_groups()
    pooled = [moments.pooled(keep) for keep in keeps]
    n_node = np.array([pooled[g][1] for g in group])  # [d]
    return GaussianScore.grouped([C for C, _ in pooled], group, n_node, S, n, noise=noise,
                                 penalty=penalty, gamma=gamma)


def perfect_from_data(data: Dataset, *, noise: NoiseModel = "unequal", penalty: float = 1.0,
                      gamma: float = 0.0) -> GaussianScore:
    """The GIES score of ``data`` (the registry's ``"gaussian-interventional"``)."""
    moments = data.regime_moments()
    S, n = moments.pooled(np.ones(len(moments.labels), bool))
    return _perfect(moments, S, int(n), noise=noise, penalty=penalty, gamma=gamma)


class SoftInterventionScore(FitTermScore):
    """The soft-intervention Gaussian BIC (module docstring); the statistic of a parent
    set is the fit term of its variable, summed over its mechanisms.

    Parameters
    ----------
    moments : RegimeMoments
        The data's moments per regime.
    penalty, gamma : float
        Edge cost ``penalty * log(N) / 2 + gamma * log(d)`` per mechanism, ``N`` all rows.
    """

    def __init__(self, moments: RegimeMoments, *, penalty: float = 1.0,
                 gamma: float = 0.0) -> None:
        S, n = moments.pooled(np.ones(len(moments.labels), bool))
        self.n, self.d = int(n), S.shape[0]
        self.S = S
        self.shared = _perfect(moments, S, self.n, noise="unequal", penalty=penalty,
                               gamma=gamma)  # the mechanism of the unintervened rows
        self.own: list[list[GaussianScore]] = [[] for _ in range(self.d)]
        for k in range(len(moments.labels)):
            targets = np.flatnonzero(moments.targets[k])
            if len(targets):
                C, n_k = moments.regime_covariance(k)
                regime = GaussianScore(C, int(n_k), penalty=penalty, gamma=gamma)
                for j in targets:
                    self.own[j].append(regime)
        self.edge_cost = edge_penalty(self.n, self.d, penalty, gamma)
        self.tol = score_tol(self.n)

    def _mechanisms(self, j: int) -> list[GaussianScore]:
        return [self.shared, *self.own[j]]

    def stat(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        return sum(s.fit_term(j, s.stat(j, parents)) for s in self._mechanisms(j))

    def add_stats(self, j: int, parents: Sequence[int] | np.ndarray, *,
                  floor_partial: bool = True) -> np.ndarray:
        total: Any = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            for s in self._mechanisms(j):
                total = total + 0.5 * s.n_node[j] * np.log(
                    s.add_stats(j, parents, floor_partial=floor_partial))
        return np.asarray(total)

    def remove_stats(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        total: Any = 0.0
        for s in self._mechanisms(j):
            total = total + 0.5 * s.n_node[j] * np.log(s.remove_stats(j, parents))
        return np.asarray(total)

    def penalty(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        return self.edge_cost * len(parents) * len(self._mechanisms(j))

    def add_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        return self.edge_cost * len(self._mechanisms(j))

    def remove_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        return -self.edge_cost * len(self._mechanisms(j))

    def weights(self, A: np.ndarray) -> np.ndarray:
        """OLS weights of the shared (unintervened) mechanisms on ``A``."""
        return self.shared.weights(A)


def soft_from_data(data: Dataset, *, noise: NoiseModel = "unequal", penalty: float = 1.0,
                   gamma: float = 0.0) -> SoftInterventionScore:
    """The soft-intervention score of ``data`` (the registry's ``"gaussian-soft"``)."""
    return SoftInterventionScore(data.regime_moments(), penalty=penalty, gamma=gamma)
