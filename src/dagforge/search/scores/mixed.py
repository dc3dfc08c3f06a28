r"""A score of mixed continuous and discrete data: the Gaussian BIC of the embedding.

Each variable is a block of columns of the embedding (:mod:`dagforge.embedding`: a
categorical variable with ``k`` levels as ``k - 1`` indicators), and the blocks are
scored as jointly Gaussian, the *degenerate Gaussian* score of Andrews, Ramsey & Cooper
(2019): variable :math:`j` with block :math:`B_j` given the columns :math:`C_P` of its
parents' blocks has the fit term

.. math::  \frac n2 \log\det \Sigma_{B_j \mid C_P}
           = \frac n2 \big(\log\det \Sigma_{B_j \cup C_P} - \log\det \Sigma_{C_P}\big)

and each parent costs :math:`c\,|B_j|\,|B_p|` (one coefficient per pair of columns).

Why this score for mixed data: it needs one covariance of the embedding (no regression
per configuration of the discrete parents, as the conditional Gaussian score does), is
decomposable and score-equivalent like the Gaussian BIC, stays well defined for any
mix of types, and on all-continuous data it is the unequal-variance Gaussian BIC. Its
model is wrong for a discrete child (a linear probability model), which is what the
benchmark (``benchmarks/discrete.py``) measures against the multinomial scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from dagforge.search.regression import edge_penalty
from dagforge.search.scores.base import BoundedCache, FitTermScore, parent_key
from dagforge.ties import score_tol

if TYPE_CHECKING:
    from dagforge.data import Dataset

__all__ = ["BlockGaussianScore", "from_data"]

_CACHE_FLOATS = 1 << 20
#: Floor of a determinant inside a logarithm, relative to the block's variances.
_DET_FLOOR = 1e-12


class BlockGaussianScore(FitTermScore):
    """The degenerate Gaussian score of a covariance of blocks (module docstring).

    Parameters
    ----------
    S : ndarray of shape (D, D)
        Covariance of the embedding.
    blocks : list of int arrays
        Each variable's columns of ``S``.
    n : int
        Rows.
    penalty, gamma : float
        Cost ``penalty * log(n) / 2 + gamma * log(d)`` per pair of columns.
    """

    def __init__(self, S: np.ndarray, blocks: list[np.ndarray], n: int, *,
                 penalty: float = 1.0, gamma: float = 0.0) -> None:
        self.S = np.asarray(S, dtype=float)
        self.blocks = [np.asarray(b, dtype=np.intp) for b in blocks]
        self.sizes = np.array([len(b) for b in self.blocks])
        self.n, self.d = int(n), len(self.blocks)
        self.edge_cost = edge_penalty(self.n, self.d, penalty, gamma)
        self.tol = score_tol(self.n)
        self._stats = BoundedCache(_CACHE_FLOATS)

    def _cols(self, parents: np.ndarray) -> np.ndarray:
        return (np.concatenate([self.blocks[p] for p in parents]) if len(parents)
                else np.zeros(0, dtype=np.intp))

    def _logdet(self, cols: np.ndarray) -> float:
        if not len(cols):
            return 0.0
        C = self.S[np.ix_(cols, cols)]
        sd = np.sqrt(np.maximum(np.diag(C), 1e-300))
        sign, value = np.linalg.slogdet(C / np.outer(sd, sd))  # equilibrated
        floor = np.log(_DET_FLOOR) * len(cols)
        return (max(value, floor) if sign > 0 else floor) + 2.0 * float(np.log(sd).sum())

    def stat(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        pa, key = parent_key(parents)

        def make() -> tuple[float, int]:
            C = self._cols(pa)
            fit = self._logdet(np.concatenate([C, self.blocks[j]])) - self._logdet(C)
            return 0.5 * self.n * fit, 1

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

    def penalty(self, j: int, parents: Sequence[int] | np.ndarray) -> float:
        pa = np.asarray(parents, dtype=np.intp)
        return self.edge_cost * self.sizes[j] * float(self.sizes[pa].sum())

    def add_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        return self.edge_cost * self.sizes[j] * self.sizes.astype(float)  # [d]

    def remove_costs(self, j: int, parents: Sequence[int] | np.ndarray) -> np.ndarray:
        pa = np.asarray(parents, dtype=np.intp)
        return -self.edge_cost * self.sizes[j] * self.sizes[pa].astype(float)  # [p]

    def weights(self, A: np.ndarray) -> np.ndarray:
        """Block OLS coefficients' norms (:func:`dagforge.embedding.block_norms` of the
        regression of each block on its parents' columns)."""
        W = np.zeros((self.d, self.d))
        for j in range(self.d):
            pa = np.flatnonzero(A[:, j])
            if not len(pa):
                continue
            C, B = self._cols(pa), self.blocks[j]
            beta = np.linalg.lstsq(self.S[np.ix_(C, C)], self.S[np.ix_(C, B)], rcond=None)[0]
            start = 0
            for p in pa:
                k = len(self.blocks[p])
                W[p, j] = max(float(np.sqrt((beta[start:start + k] ** 2).sum())), 1e-12)
                start += k
        return W


def from_data(data: Dataset, *, noise: str = "unequal", penalty: float = 1.0,
              gamma: float = 0.0) -> BlockGaussianScore:
    """The registry's ``"degenerate-gaussian"``: the embedding's covariance, scored."""
    from dagforge.embedding import embed
    from dagforge.search.scores.gaussian import sample_covariance

    E, blocks = embed(data)
    return BlockGaussianScore(sample_covariance(E), blocks, data.n, penalty=penalty,
                              gamma=gamma)
