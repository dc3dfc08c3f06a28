r"""The linear structural equation model and its losses, computed from the covariance.

Model: :math:`X = X W + E` with ``W[i, j]`` the weight of ``i -> j`` and a zero
diagonal. With centred data and :math:`S = X^\top X / n`, the residual
sum of squares of variable ``j`` divided by ``n`` is

.. math::  r_j(W) = \big[(I - W)^\top S (I - W)\big]_{jj},

so every loss below costs :math:`O(d^3)` per evaluation, independent of ``n``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.errors import ConfigError

__all__ = [
    "LOSSES",
    "LinearLoss",
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


def residual_variances(W: Tensor, S: Tensor) -> Tensor:
    r"""Per-variable residual variances :math:`r_j = [(I-W)^\top S (I-W)]_{jj}`, shape (d,)."""
    R = torch.eye(W.shape[0], dtype=W.dtype, device=W.device) - W  # [d, d]
    return torch.sum(R * (S @ R), dim=0)  # [d]


def least_squares(W: Tensor, S: Tensor) -> Tensor:
    r"""Equal-variance least squares :math:`\frac{1}{2n}\|X - XW\|_F^2 = \frac12 \sum_j r_j(W)`.

    The loss of NOTEARS and DAGMA; it assumes every noise term has the same variance.
    """
    return 0.5 * residual_variances(W, S).sum()


def gaussian_nll(W: Tensor, S: Tensor) -> Tensor:
    r"""Gaussian negative log-likelihood per sample, one noise variance per variable.

    With the variances profiled out (:math:`\hat\sigma_j^2 = r_j(W)`), up to constants

    .. math::  \ell(W) = \frac12 \sum_j \log r_j(W) - \log |\det(I - W)|,

    the non-equal-variance likelihood of GOLEM-NV (Ng et al. 2020). For a DAG,
    :math:`\det(I - W) = 1`; the term keeps the likelihood honest for cyclic iterates.
    """
    d = W.shape[0]
    r = residual_variances(W, S)  # [d]
    _, logabsdet = torch.linalg.slogdet(torch.eye(d, dtype=W.dtype, device=W.device) - W)
    return 0.5 * torch.log(r).sum() - logabsdet


LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "ls": least_squares,
    "nll": gaussian_nll,
}


def get_loss(name: str) -> Callable[[Tensor, Tensor], Tensor]:
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
