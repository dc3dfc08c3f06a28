r"""Data terms of the models fitted from rows (MLP, GNN), with interventional blocks.

Each loss compares the data ``X`` with the model's predictions ``X_hat`` (both (n, d)).
Interventional data add a *block code* per entry, ``C`` of shape (n, d)
(:func:`block_codes`):

* ``0``: left out: the variable was intervened on perfectly in that row's regime, so
  its own mechanism does not produce the entry;
* ``1``: produced by the variable's shared mechanism;
* ``2 + k``: produced by the variable's own mechanism in regime ``k`` (a soft
  intervention): the entries of one such block get their own intercept (residuals
  centred within the block) and, under ``"nll"``, their own noise variance.

Observational data pass no codes and take the plain formulas.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor

__all__ = ["MLP_LOSSES", "block_codes", "gaussian_nll", "least_squares"]

#: Own-mechanism blocks with fewer entries than this in a mini-batch are left out of
#: that batch's likelihood: their variance is not estimable from one entry.
_MIN_BLOCK = 2


def block_codes(intervened: np.ndarray, regime_index: np.ndarray, soft: bool) -> np.ndarray:
    """Block code of every entry (module docstring) from the intervened mask (n, d) and
    each row's regime index (n,); float (n, d), to travel with the rows."""
    if not soft:
        return (~intervened).astype(float)
    own = 2.0 + regime_index.astype(float)[:, None]  # [n, 1]
    return np.where(intervened, own, 1.0)


def _perfect_only(C: Tensor) -> bool:
    """Codes 0 and 1 only (perfect interventions): a mask, no own-mechanism blocks."""
    return bool((C <= 1).all())


def _block_sums(res: Tensor, C: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per variable and block (codes 1, 2, ...): entry count, sum and sum of squares of
    the residuals ``res`` (n, d); each (d, K)."""
    K = int(C.max().item()) + 1
    onehot = torch.nn.functional.one_hot(C.long(), K)[..., 1:].to(res.dtype)  # [n, d, K-1]
    cnt = onehot.sum(dim=0)  # [d, K-1]
    s1 = torch.einsum("nd,ndk->dk", res, onehot)
    s2 = torch.einsum("nd,ndk->dk", res * res, onehot)
    return cnt, s1, s2


def _centred_squares(cnt: Tensor, s1: Tensor, s2: Tensor) -> Tensor:
    """Sum of squared residuals per variable and block, the own-mechanism blocks
    (index >= 1) about their own mean (their own intercept); (d, K)."""
    own_mean_sq = torch.where(cnt > 0, s1 * s1 / cnt.clamp_min(1), torch.zeros_like(s1))
    centred = s2.clone()
    centred[:, 1:] = (s2[:, 1:] - own_mean_sq[:, 1:]).clamp_min(0.0)
    return centred


def least_squares(X: Tensor, X_hat: Tensor, C: Tensor | None = None) -> Tensor:
    r"""Equal-variance least squares :math:`\frac{1}{2n}\|X - \hat X\|_F^2`, over the
    entries a mechanism produces when block codes ``C`` are given.

    Parameters
    ----------
    X, X_hat : Tensor of shape (n, d)
    C : Tensor of shape (n, d), optional
        Block codes (module docstring).

    Returns
    -------
    Tensor
        Scalar.
    """
    res = X - X_hat  # [n, d]
    if C is None:
        return 0.5 * (res**2).sum() / X.shape[0]
    if _perfect_only(C):  # the entries a mechanism produces, as a mask
        return 0.5 * (res**2 * C).sum() / X.shape[0]
    cnt, s1, s2 = _block_sums(res, C)
    return 0.5 * _centred_squares(cnt, s1, s2).sum() / X.shape[0]


def gaussian_nll(X: Tensor, X_hat: Tensor, C: Tensor | None = None) -> Tensor:
    r"""Gaussian negative log-likelihood per sample with one noise variance per variable.

    The variances profiled out (:math:`\hat\sigma_j^2 = \frac1n \sum_r (X_{rj} -
    \hat X_{rj})^2`), up to constants,

    .. math::  \ell = \frac12 \sum_j \log \hat\sigma_j^2,

    the non-equal-variance score of GOLEM-NV and (summed over variables) of
    DAGMA-MLP's ``log_mse`` loss. Unlike least squares it is invariant to the
    scale of each variable. With block codes ``C``: :math:`\frac12 \sum_{j, b}
    \frac{n_{jb}}{n} \log \hat\sigma_{jb}^2` over the blocks :math:`b` of each variable
    (its shared mechanism, and one per soft intervention on it).

    Parameters
    ----------
    X, X_hat : Tensor of shape (n, d)
    C : Tensor of shape (n, d), optional
        Block codes (module docstring).

    Returns
    -------
    Tensor
        Scalar.
    """
    res = X - X_hat  # [n, d]
    if C is None:
        mse = (res**2).mean(dim=0)  # [d]
        return 0.5 * torch.log(mse).sum()
    if _perfect_only(C):  # each variable's variance over the entries its mechanism makes
        cnt = C.sum(dim=0)  # [d]
        mse = (res**2 * C).sum(dim=0) / cnt.clamp_min(1)
        tiny = torch.finfo(mse.dtype).tiny
        return 0.5 * (cnt * torch.log(mse.clamp_min(tiny))).sum() / X.shape[0]
    cnt, s1, s2 = _block_sums(res, C)
    sq = _centred_squares(cnt, s1, s2)  # [d, K]
    usable = cnt >= 1
    usable[:, 1:] &= cnt[:, 1:] >= _MIN_BLOCK
    var = torch.where(usable, sq / cnt.clamp_min(1), torch.ones_like(sq))
    tiny = torch.finfo(var.dtype).tiny
    return 0.5 * (cnt * usable * torch.log(var.clamp_min(tiny))).sum() / X.shape[0]


MLP_LOSSES: dict[str, Callable[..., Tensor]] = {
    "ls": least_squares,
    "nll": gaussian_nll,
}
