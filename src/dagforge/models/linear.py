r"""The linear structural equation model and its losses, computed from the covariance.

Model: :math:`X = X W + E` with ``W[i, j]`` the weight of ``i -> j`` and a zero
diagonal. With centred data and :math:`S = X^\top X / n`, the residual
sum of squares of variable ``j`` divided by ``n`` is

.. math::  r_j(W) = \big[(I - W)^\top S (I - W)\big]_{jj},

so every loss below costs :math:`O(d^3)` per evaluation, independent of ``n``.

Interventional data (:class:`LinearMoments`) split the rows into *blocks*: a variable's
residual variance is taken on the rows of the block that fits its mechanism (under a
perfect intervention, the rows of the regimes that did not intervene on it; under a soft
one, also each intervening regime's rows, about their own mean). Each block costs one
:math:`d \times d` product with the block's columns, so a step still costs
:math:`O(d^3)`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.errors import ConfigError

__all__ = [
    "LOSSES",
    "LinearLoss",
    "LinearMoments",
    "LinearSEM",
    "covariance",
    "gaussian_nll",
    "least_squares",
    "residual_variances",
]

LinearLoss = Literal["ls", "nll"]


def covariance(X: np.ndarray | Tensor, dtype: torch.dtype = torch.float64,
               device: torch.device | str | None = None) -> Tensor:
    """Centred second-moment matrix :math:`S = (X - \\bar X)^\\top (X - \\bar X) / n`.

    Parameters
    ----------
    X : array of shape (n, d)

    Returns
    -------
    Tensor of shape (d, d)
    """
    Xt = torch.as_tensor(np.asarray(X) if not isinstance(X, Tensor) else X, dtype=dtype,
                         device=device)
    Xc = Xt - Xt.mean(dim=0, keepdim=True)  # [n, d]
    return Xc.T @ Xc / Xt.shape[0]  # [d, d]


@dataclass(frozen=True, eq=False)
class LinearMoments:
    """The moments of interventional data that the linear losses fit.

    Attributes
    ----------
    blocks : tuple of (Tensor [d, d], LongTensor [k], float)
        Per block of rows: its covariance, the variables whose mechanism it fits, and
        its share of all rows (:math:`n_b / n`).
    regimes : tuple of (LongTensor [t], float)
        Per regime: the variables whose equation it cuts (perfect interventions), and its
        share of all rows; the log-determinant of the likelihood is taken per regime.
    """

    blocks: tuple[tuple[Tensor, Tensor, float], ...]
    regimes: tuple[tuple[Tensor, float], ...]

    @classmethod
    def from_blocks(cls, blocks: Sequence[tuple[np.ndarray, np.ndarray, float]],
                    regimes: Sequence[tuple[np.ndarray, float]],
                    device: torch.device | str | None = None) -> LinearMoments:
        """From numpy ``(covariance, columns, share)`` blocks and ``(cut columns, share)``
        regimes, as float64 tensors on ``device``."""
        def idx(cols: np.ndarray) -> Tensor:
            return torch.as_tensor(np.asarray(cols, dtype=np.int64), device=device)

        return cls(tuple((torch.as_tensor(S, dtype=torch.float64, device=device), idx(c),
                          float(w)) for S, c, w in blocks),
                   tuple((idx(c), float(w)) for c, w in regimes))


Moments = Tensor | LinearMoments


def residual_variances(W: Tensor, S: Tensor, cols: Tensor | None = None) -> Tensor:
    r"""Per-variable residual variances :math:`r_j = [(I-W)^\top S (I-W)]_{jj}`, shape (d,),
    or only those of the variables ``cols`` (shape (k,))."""
    R = torch.eye(W.shape[0], dtype=W.dtype, device=W.device) - W  # [d, d]
    if cols is not None:
        R = R[:, cols]  # [d, k]
    return torch.sum(R * (S @ R), dim=0)  # [d] or [k]


def least_squares(W: Tensor, S: Moments) -> Tensor:
    r"""Equal-variance least squares :math:`\frac{1}{2n}\|X - XW\|_F^2 = \frac12 \sum_j r_j(W)`.

    The loss of NOTEARS and DAGMA; it assumes every noise term has the same variance.
    With :class:`LinearMoments`, the squares of each block's variables on its rows.
    """
    if isinstance(S, Tensor):
        return 0.5 * residual_variances(W, S).sum()
    return 0.5 * sum(w * residual_variances(W, C, cols).sum()  # type: ignore[return-value]
                     for C, cols, w in S.blocks)


def gaussian_nll(W: Tensor, S: Moments) -> Tensor:
    r"""Gaussian negative log-likelihood per sample, one noise variance per variable.

    With the variances profiled out (:math:`\hat\sigma_j^2 = r_j(W)`), up to constants

    .. math::  \ell(W) = \frac12 \sum_j \log r_j(W) - \log |\det(I - W)|,

    the non-equal-variance likelihood of GOLEM-NV (Ng et al. 2020). For a DAG,
    :math:`\det(I - W) = 1`; the term keeps the likelihood honest for cyclic iterates.
    With :class:`LinearMoments`: :math:`\frac12 \sum_b \frac{n_b}{n} \sum_{j \in b}
    \log r_{j,b}(W) - \sum_k \frac{n_k}{n} \log|\det(I - W_k)|`, :math:`W_k` with the
    columns of regime :math:`k`'s perfect targets zeroed.
    """
    d = W.shape[0]
    eye = torch.eye(d, dtype=W.dtype, device=W.device)
    if isinstance(S, Tensor):
        r = residual_variances(W, S)  # [d]
        _, logabsdet = torch.linalg.slogdet(eye - W)
        return 0.5 * torch.log(r).sum() - logabsdet
    fit = sum(w * torch.log(residual_variances(W, C, cols)).sum() for C, cols, w in S.blocks)
    logdet = W.new_zeros(())
    for cut, w in S.regimes:
        Wk = W.index_fill(1, cut, 0.0) if len(cut) else W  # [d, d] cut equations
        logdet = logdet + w * torch.linalg.slogdet(eye - Wk)[1]
    return 0.5 * fit - logdet  # type: ignore[return-value]


LOSSES: dict[str, Callable[[Tensor, Moments], Tensor]] = {
    "ls": least_squares,
    "nll": gaussian_nll,
}


def get_loss(name: str) -> Callable[[Tensor, Moments], Tensor]:
    """The linear loss called ``name`` (``"ls"`` or ``"nll"``)."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ConfigError(f"unknown linear loss {name!r}; choose one of {sorted(LOSSES)}") from None


class LinearSEM(nn.Module):
    """Linear SEM :math:`X = XW + E` with a weight matrix whose diagonal is fixed at 0.

    Parameters
    ----------
    d : int
        Number of variables.
    mask : array of shape (d, d), optional
        1 where an edge may exist, 0 where it is fixed absent (e.g. forbidden by
        prior knowledge). The diagonal is always 0.
    dtype : torch.dtype
        Parameter dtype (float64 by default: the losses are ill-conditioned in float32).
    """

    def __init__(self, d: int, mask: np.ndarray | Tensor | None = None,
                 dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        m = torch.ones(d, d, dtype=dtype) if mask is None else torch.as_tensor(mask, dtype=dtype)
        m = m * (1 - torch.eye(d, dtype=dtype))
        self.register_buffer("mask", m)  # [d, d]
        self.weight = nn.Parameter(torch.zeros(d, d, dtype=dtype))  # [d, d]

    @property
    def d(self) -> int:
        return self.weight.shape[0]

    def adjacency(self) -> Tensor:
        """The weighted adjacency ``W`` (``W[i, j]``: weight of ``i -> j``), shape (d, d)."""
        return self.weight * self.mask

    def forward(self, X: Tensor) -> Tensor:
        """Prediction of every column from the others: ``X @ W``, shape (n, d)."""
        return X @ self.adjacency()

    def l1_parameters(self) -> list[Tensor]:
        """The parameters carrying the L1 penalty: ``[weight]`` (laid out like ``W``)."""
        return [self.weight]
