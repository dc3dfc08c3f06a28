r"""Scores of discrete data: the multinomial BIC and BDeu, from contingency counts.

Variable :math:`j` with :math:`r_j` levels and parent set :math:`P` (whose joint
configurations number :math:`q_P = \prod_{p \in P} r_p`) has the counts
:math:`N_{kc}`: rows with parent configuration :math:`k` and :math:`X_j = c`.

* multinomial BIC (``"discrete-bic"``): the fit term is the negative maximised
  log-likelihood, :math:`-\sum_{k,c} N_{kc} \log (N_{kc} / N_k)`, and the parent set costs
  :math:`\kappa \frac{\log n}2 (r_j - 1)\, q_P` (one free probability per level but one,
  per configuration);
* BDeu (``"bdeu"``, Heckerman, Geiger & Chickering 1995): the negative log marginal
  likelihood under a Dirichlet prior of equivalent sample size :math:`\alpha`,

  .. math::  -\sum_k \Big[\log\frac{\Gamma(\alpha/q)}{\Gamma(\alpha/q + N_k)}
             + \sum_c \log\frac{\Gamma(\alpha/(q r) + N_{kc})}{\Gamma(\alpha/(q r))}\Big],

  its own penalty (no separate edge cost).

Both are decomposable and score-equivalent. Counts come from ``np.bincount`` on the
configuration index of each row (cached per parent set), so scoring every one-parent
extension of a set costs :math:`O(n\, d)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.special import gammaln

from dagforge.search.regression import edge_penalty
from dagforge.search.scores.base import BoundedCache, FitTermScore, frozen, parent_key
from dagforge.ties import score_tol

if TYPE_CHECKING:
    from dagforge.data import Dataset

__all__ = ["DiscreteScore", "bdeu_from_data", "bic_from_data"]

DiscreteKind = Literal["bic", "bdeu"]

#: Floats the caches may hold (configuration indices, statistics).
_CACHE_FLOATS = 1 << 23


class DiscreteScore(FitTermScore):
    """Multinomial BIC or BDeu of discrete data (see the module docstring).

    Parameters
    ----------
    codes : int ndarray of shape (n, d)
        Each column's level codes ``0 .. r_j - 1``.
    cards : int ndarray of shape (d,)
        Levels of each column, :math:`r_j`.
    kind : {"bic", "bdeu"}
    penalty : float
        BIC's :math:`\\kappa`.
    ess : float
        BDeu's equivalent sample size :math:`\\alpha`.
    """

    def __init__(self, codes: np.ndarray, cards: np.ndarray, *, kind: DiscreteKind = "bic",
                 penalty: float = 1.0, ess: float = 1.0) -> None:
        self.codes = np.ascontiguousarray(codes, dtype=np.int64)  # [n, d]
        self.cards = np.asarray(cards, dtype=np.int64)  # [d]
        self.n, self.d = self.codes.shape
        self.kind, self.ess = kind, float(ess)
        self.unit = penalty * 0.5 * float(np.log(self.n)) if kind == "bic" else 0.0
        self.edge_cost = edge_penalty(self.n, self.d, penalty) if kind == "bic" else 0.0
        self.tol = score_tol(self.n)
        self._configs = BoundedCache(_CACHE_FLOATS)
        self._stats = BoundedCache(_CACHE_FLOATS)

    # -- counts -------------------------------------------------------------------

    def _config(self, parents: np.ndarray) -> tuple[np.ndarray, int]:
        """Each row's joint configuration of ``parents`` (mixed radix) and their number."""
        def make() -> tuple[tuple[np.ndarray, int], int]:
            idx = np.zeros(self.n, dtype=np.int64)
            q = 1
            for p in parents:
                idx = idx * self.cards[p] + self.codes[:, p]
                q *= int(self.cards[p])
            return (frozen(idx), q), self.n

        return self._configs.get(parents.tobytes(), make)

    def _fit_term(self, j: int, config: np.ndarray, q: int) -> float:
        """The fit term of ``j`` given rows' parent configurations ``config`` of ``q``."""
        r = int(self.cards[j])
        cell = config * r + self.codes[:, j]  # [n]
        if q * r <= 4 * self.n:
            counts = np.bincount(cell, minlength=q * r).reshape(q, r)  # [q, r]
            counts = counts[counts.sum(axis=1) > 0]  # observed configurations only
        else:  # sparse: only the observed cells
            cells, n_cell = np.unique(cell, return_counts=True)
            rows = np.unique(cells // r, return_inverse=True)[1]
            counts = np.zeros((rows.max() + 1, r), dtype=np.int64)
            counts[rows, cells % r] = n_cell
        N_k = counts.sum(axis=1, keepdims=True)  # [k, 1]
        if self.kind == "bic":
            nz = counts > 0
            return -float((counts[nz] * np.log(counts[nz] / np.broadcast_to(N_k, counts.shape)[nz])
                           ).sum())
        a_q, a_qr = self.ess / q, self.ess / (q * r)
        ml = (gammaln(a_q) - gammaln(a_q + N_k[:, 0])).sum() + (
            gammaln(a_qr + counts) - gammaln(a_qr)).sum()
        return -float(ml)

    # -- the contract ---------------------------------------------------------------

    def stat(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        pa, key = parent_key(parents)

        def make() -> tuple[float, int]:
            config, q = self._config(pa)
            return self._fit_term(j, config, q), 1

        return self._stats.get((j, key), make)

    def add_stats(self, j: int, parents: Sequence[int] | np.ndarray, *,
                  floor_partial: bool = True) -> np.ndarray:
        pa = np.asarray(parents, dtype=np.intp)
        out = np.full(self.d, np.nan)
        for i in range(self.d):
            if i != j and i not in pa:
                out[i] = self.stat(j, np.append(pa, i))
        return out

    def remove_stats(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        pa = np.asarray(parents, dtype=np.intp)
        return np.array([self.stat(j, np.delete(pa, k)) for k in range(len(pa))])

    def _q(self, parents: Sequence[int] | np.ndarray) -> float:
        return float(np.prod(self.cards[np.asarray(parents, dtype=np.intp)], dtype=float))

    def penalty(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        return self.unit * (self.cards[j] - 1) * self._q(parents)

    def add_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        base = self.unit * (self.cards[j] - 1) * self._q(parents)
        return base * (self.cards - 1).astype(float)  # [d]: q grows by r_i

    def remove_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        pa = np.asarray(parents, dtype=np.intp)
        base = self.unit * (self.cards[j] - 1) * self._q(pa)
        return base * (1.0 / self.cards[pa] - 1.0)  # [p]: q shrinks by r_k

    def weights(self, A: np.ndarray) -> np.ndarray:
        """Strength of each edge of ``A``: the fit term its parent saves (in nats, for
        BIC twice the conditional mutual information times n / 2), at least 1e-12."""
        W = np.zeros((self.d, self.d))
        for j in range(self.d):
            pa = np.flatnonzero(A[:, j])
            if len(pa):
                W[pa, j] = np.maximum(self.remove_stats(j, pa) - self.stat(j, pa), 1e-12)
        return W


def _codes(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return data.values.astype(np.int64), data.cardinalities()


def bic_from_data(data: Dataset, *, noise: str = "unequal", penalty: float = 1.0,
                  gamma: float = 0.0) -> DiscreteScore:
    """The registry's ``"discrete-bic"``: the multinomial BIC of all-discrete data."""
    return DiscreteScore(*_codes(data), kind="bic", penalty=penalty)


def bdeu_from_data(data: Dataset, *, noise: str = "unequal", penalty: float = 1.0,
                   gamma: float = 0.0) -> DiscreteScore:
    """The registry's ``"bdeu"``: BDeu (equivalent sample size 1) of all-discrete data."""
    return DiscreteScore(*_codes(data), kind="bdeu")
