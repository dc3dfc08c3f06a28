r"""DAG-GNN's polynomial acyclicity function :math:`\operatorname{tr}(I + W \circ W / d)^d - d`."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from dagforge.constraints.base import as_f64, eye

__all__ = ["poly"]


def _power_minus_identity(X: Tensor, n: int) -> Tensor:
    """``(I + X)^n - I`` by binary exponentiation, never forming ``I + X``.

    With ``C_m = (I + X)^m - I``: ``C_{2m} = 2 C_m + C_m C_m`` and
    ``C_{a+b} = C_a + C_b + C_a C_b``. For ``X >= 0`` every operation adds
    non-negative numbers, so there is no cancellation and no renormalisation.
    """
    result: Tensor | None = None  # C for the bits consumed so far
    base = X  # C_{2^j}, [d, d]
    while n > 0:
        if n & 1:
            result = base if result is None else result + base + result @ base  # [d, d]
        n >>= 1
        if n:
            base = 2.0 * base + base @ base  # [d, d]
    return torch.zeros_like(X) if result is None else result


class _Poly(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, W: Tensor) -> Tensor:  # W: [d, d] float64
        d = W.shape[0]
        X = W * W / d  # [d, d]
        C = _power_minus_identity(X, d - 1)  # (I + X)^{d-1} - I, [d, d]
        ctx.save_for_backward(W, C)
        # tr((I + C)(I + X)) - d = tr C + tr X + sum(C ∘ X^T): all terms >= 0
        return torch.diagonal(C).sum() + torch.diagonal(X).sum() + (C * X.T).sum()

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        W, C = ctx.saved_tensors
        B = C + eye(W.shape[0], W)  # (I + A/d)^{d-1}, [d, d]
        return g * 2.0 * W * B.T


def poly(W: Tensor) -> Tensor:
    r"""DAG-GNN's polynomial acyclicity function (Yu et al. 2019).

    .. math::

        h(W) = \operatorname{tr}\left(I + \tfrac{1}{d}\, W \circ W\right)^{d} - d
             = \sum_{k=1}^{d} \binom{d}{k} \frac{\operatorname{tr}(A^k)}{d^k},
             \qquad A = W \circ W,

    zero iff ``W`` is a DAG (a cycle has length at most ``d``), with gradient

    .. math::

        \nabla h(W) = 2\, W \circ \left[\left(I + \tfrac{1}{d} A\right)^{d-1}\right]^{\top}.

    Parameters
    ----------
    W : Tensor of shape (d, d)
        Weighted adjacency; any real dtype.

    Returns
    -------
    Tensor
        Float64 scalar.

    Notes
    -----
    :math:`(I + A/d)^{d-1} - I` is computed by binary exponentiation in about
    :math:`2\log_2 d` matrix products, *without* renormalisation and without
    ever forming ``I`` (see :func:`_power_minus_identity`); the value is then
    :math:`\operatorname{tr} C + \operatorname{tr} X + \sum_{ij} C_{ij} X_{ji}`
    with :math:`X = A/d`. Every term is a sum of non-negative numbers, so ``h``
    has small *relative* error even when it is tiny (no subtraction of ``d``):
    it is exactly 0 on DAGs and stays positive on any cycle whose contribution
    does not underflow below :math:`10^{-308}`. The backward reuses the saved
    power. Overflows only when :math:`(1 + \rho(A)/d)^d` does.
    """
    W = as_f64(W)
    if W.shape[0] == 0:
        return W.sum()
    return _Poly.apply(W)

