r"""Nonlinear SEM with one small MLP per variable (NOTEARS-MLP / DAGMA-MLP family).

Model: every variable is a function of the others plus noise,

.. math::  X_j = f_j(X) + E_j, \qquad
           f_j(x) = \phi_L\big(\cdots \sigma\big(A^{(1)}_j x + b^{(1)}_j\big) \cdots\big),

where :math:`A^{(1)}_j \in \mathbb{R}^{m_1 \times d}` is the first-layer weight of
node ``j`` and :math:`\sigma` the hidden activation. The ``d`` MLPs are batched as
*locally connected* layers: the first layer is one tensor ``fc1`` of shape
``[d, m1, d]`` with ``fc1[j, k, i]`` the weight from input ``i`` to hidden unit
``k`` of node ``j``; later layers have shape ``[d, m_l, m_{l+1}]``.

Input ``i`` can only influence :math:`f_j` through the column ``fc1[j, :, i]``,
so the weighted adjacency (dagforge convention, ``W[i, j] != 0`` is ``i -> j``) is

.. math::  W_{ij} = \Big(\sum_k \mathrm{fc1}[j, k, i]^2\Big)^{1/2},

and :math:`W \circ W` is the matrix NOTEARS-MLP hands to the acyclicity function.
The square root has an infinite derivative at 0; here its derivative is taken as
0 there, which is exact for :math:`h(W)` (a function of :math:`W \circ W`, whose
gradient with respect to ``fc1`` vanishes at ``fc1 = 0`` either way).

Regularisation: L1 on ``fc1`` (exact, by the optimiser: :meth:`MLPSEM.l1_parameters`)
and :math:`\tfrac{\lambda_2}{2}\|\theta\|_2^2` on the weights of the later layers
(inside :meth:`MLPSEM.loss`). Self-inputs (``i = j``) and entries forbidden by the
optional knowledge ``mask`` are fixed at zero.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.errors import ConfigError
from dagforge.models.row_losses import MLP_LOSSES, gaussian_nll, least_squares

__all__ = [
    "ACTIVATIONS",
    "MLPSEM",
    "MLP_LOSSES",
    "Activation",
    "MLPLoss",
    "edge_mask",
    "gaussian_nll",
    "least_squares",
    "safe_sqrt",
]

MLPLoss = Literal["ls", "nll"]
Activation = Literal["sigmoid", "tanh", "relu", "elu", "softplus"]

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "elu": nn.functional.elu,
    "softplus": nn.functional.softplus,
}


# --------------------------------------------------------------------------- losses
# (in dagforge.models.row_losses, shared with the GNN; re-exported here)


class _SafeSqrt(torch.autograd.Function):
    """``sqrt(x)`` for ``x >= 0`` with derivative 0 (instead of inf) at ``x = 0``."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        y = torch.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        (y,) = ctx.saved_tensors
        return torch.where(y > 0, g / (2.0 * y).clamp_min(torch.finfo(y.dtype).tiny),
                           torch.zeros_like(g))


def safe_sqrt(x: Tensor) -> Tensor:
    r"""Elementwise :math:`\sqrt{x}` (``x >= 0``) whose derivative at 0 is taken as 0."""
    return _SafeSqrt.apply(x)


def edge_mask(d: int, mask: np.ndarray | Tensor | None, dtype: torch.dtype) -> Tensor:
    """The ``d x d`` 0/1 matrix of allowed edges (``mask[i, j] = 1``: ``i -> j`` allowed).

    ``None`` allows every edge; the diagonal is always 0.

    Raises
    ------
    ConfigError
        If ``mask`` is not ``d x d`` or has entries other than 0 and 1.
    """
    m = torch.ones(d, d, dtype=dtype) if mask is None else torch.as_tensor(
        np.asarray(mask) if not isinstance(mask, Tensor) else mask).to(dtype)
    if tuple(m.shape) != (d, d):
        raise ConfigError(f"mask must have shape ({d}, {d}), got {tuple(m.shape)}")
    if not bool(torch.all((m == 0) | (m == 1))):
        raise ConfigError("mask entries must be 0 (forbidden) or 1 (allowed)")
    return m * (1 - torch.eye(d, dtype=dtype))  # [d, d]


def _uniform(shape: Sequence[int], bound: float, generator: torch.Generator,
             dtype: torch.dtype) -> Tensor:
    """``U(-bound, bound)`` samples drawn from ``generator`` (on the CPU)."""
    u = torch.rand(*shape, generator=generator, dtype=dtype)
    return (2.0 * u - 1.0) * bound


# --------------------------------------------------------------------------- model


class MLPSEM(nn.Module):
    r"""Nonlinear SEM :math:`X_j = f_j(X) + E_j`, one MLP per variable (see module docstring).

    Parameters
    ----------
    d : int
        Number of variables.
    hidden : sequence of int
        Hidden layer widths ``(m1, m2, ...)``; the output layer (width 1) is added.
        NOTEARS-MLP and DAGMA-MLP use ``(10,)``.
    activation : {"sigmoid", "tanh", "relu", "elu", "softplus"}
        Hidden activation.
    loss : {"ls", "nll"}
        ``"ls"``: :func:`least_squares` (equal noise variances); ``"nll"``:
        :func:`gaussian_nll` (one noise variance per variable).
    lambda2 : float
        Weight of the L2 penalty :math:`\frac{\lambda_2}{2}\sum \theta^2` on the
        weights of the layers after the first (biases excluded).
    bias : bool
        Whether the layers have biases.
    mask : array of shape (d, d), optional
        Knowledge mask: 1 where the edge ``i -> j`` may exist, 0 where it is
        forbidden. The diagonal is always 0 (no self-inputs).
    random_state : int or torch.Generator, optional
        Source of the initial weights of the layers after the first (``fc1``
        starts at zero, so the initial graph is empty, as in DAGMA-MLP).
    dtype : torch.dtype
        Parameter dtype.
    """

    def __init__(
        self,
        d: int,
        hidden: Sequence[int] = (10,),
        *,
        activation: Activation = "sigmoid",
        loss: MLPLoss = "ls",
        lambda2: float = 0.005,
        bias: bool = True,
        mask: np.ndarray | Tensor | None = None,
        random_state: int | torch.Generator | None = None,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()
        if d < 1:
            raise ConfigError(f"d must be >= 1, got {d}")
        widths = [int(m) for m in hidden]
        if not widths or min(widths) < 1:
            raise ConfigError(f"hidden must be a non-empty sequence of positive widths, got "
                              f"{hidden!r}")
        if activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {activation!r}; choose one of "
                              f"{sorted(ACTIVATIONS)}")
        if loss not in MLP_LOSSES:
            raise ConfigError(f"unknown MLP loss {loss!r}; choose one of {sorted(MLP_LOSSES)}")
        if not lambda2 >= 0:
            raise ConfigError(f"lambda2 must be >= 0, got {lambda2}")
        gen = (random_state if isinstance(random_state, torch.Generator)
               else torch.Generator().manual_seed(0 if random_state is None else random_state))
        self.activation = activation
        self.loss_name = loss
        self.lambda2 = float(lambda2)
        self._act = ACTIVATIONS[activation]
        self.register_buffer("mask", edge_mask(d, mask, dtype))  # [d, d]
        m1 = widths[0]
        self.fc1 = nn.Parameter(torch.zeros(d, m1, d, dtype=dtype))  # [d(node j), m1, d(input i)]
        self.b1 = nn.Parameter(torch.zeros(d, m1, dtype=dtype)) if bias else None  # [d, m1]
        dims = [*widths, 1]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for m_in, m_out in itertools.pairwise(dims):
            bound = 1.0 / math.sqrt(m_in)  # nn.Linear's default range
            self.weights.append(nn.Parameter(_uniform((d, m_in, m_out), bound, gen, dtype)))
            if bias:
                self.biases.append(nn.Parameter(_uniform((d, m_out), bound, gen, dtype)))

    @property
    def d(self) -> int:
        """Number of variables."""
        return self.fc1.shape[0]

    def first_layer(self) -> Tensor:
        """``fc1`` with masked entries (self-inputs, forbidden edges) zeroed, ``[d, m1, d]``."""
        return self.fc1 * self.mask.T[:, None, :]  # mask.T[j, i]: i -> j allowed

    def adjacency(self) -> Tensor:
        r"""Weighted adjacency :math:`W_{ij} = \|\mathrm{fc1}[j, :, i]\|_2`, shape (d, d).

        ``W[i, j] != 0`` means ``i -> j`` (input ``i`` enters the MLP of ``j``).
        """
        A = (self.first_layer() ** 2).sum(dim=1)  # [d(j), d(i)]
        return safe_sqrt(A).T  # [d(i), d(j)]

    def forward(self, X: Tensor) -> Tensor:
        """Predictions :math:`\\hat X_{:, j} = f_j(X)`, shape (n, d), from ``X`` of shape (n, d)."""
        n, d = X.shape
        w1 = self.first_layer()  # [d, m1, d]
        m1 = w1.shape[1]
        w1 = w1.reshape(d * m1, d).T  # [d, d * m1]
        if self.b1 is not None:
            h = torch.addmm(self.b1.reshape(-1), X, w1)  # [n, d * m1]
        else:
            h = X @ w1  # [n, d * m1]
        h = h.view(n, d, m1)  # [n, d, m1]
        last = len(self.weights) - 1
        for layer, W in enumerate(self.weights):
            h = self._act(h)
            if layer == last:  # width-1 output: a weighted sum, cheaper than a batched matmul
                h = (h * W.squeeze(-1)).sum(dim=-1)  # [n, d]
            else:
                h = torch.einsum("njm,jmk->njk", h, W)  # [n, d, m_next]
            if len(self.biases):
                h = h + self.biases[layer].squeeze(-1) if layer == last else h + self.biases[layer]
        return h  # [n, d]

    def predict(self, X: Tensor) -> Tensor:
        """Predictions of ``X`` (n, d), shape (n, d): the same as calling the model."""
        return self(X)

    def l2_penalty(self) -> Tensor:
        r""":math:`\frac12 \sum \theta^2` over the weights of the layers after the first."""
        return 0.5 * sum((W**2).sum() for W in self.weights)  # type: ignore[return-value]

    def loss(self, X: Tensor, C: Tensor | None = None) -> Tensor:
        r"""The smooth data term on rows ``X`` (n, d): the loss plus :math:`\lambda_2`
        times :meth:`l2_penalty` (the L1 term on ``fc1`` is the optimiser's). ``C``:
        interventional block codes (:mod:`dagforge.models.row_losses`)."""
        value = MLP_LOSSES[self.loss_name](X, self(X), C)
        if self.lambda2 > 0:
            value = value + self.lambda2 * self.l2_penalty()
        return value

    def l1_parameters(self) -> list[Tensor]:
        """The parameters carrying the L1 penalty: ``[fc1]``."""
        return [self.fc1]

    def edge_l1_weights(self, required: Tensor) -> list[Tensor]:
        """L1 multipliers for :meth:`l1_parameters`: 0 on ``fc1[j, :, i]`` for every
        required edge ``i -> j`` (``required`` bool, shape (d, d)), else 1."""
        free = (~required.to(device=self.fc1.device, dtype=torch.bool)).to(self.fc1.dtype)
        return [free.T[:, None, :].expand_as(self.fc1).clone()]  # [d(j), m1, d(i)]
