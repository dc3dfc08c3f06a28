"""Pieces of the DAG-GNN model (:mod:`dagforge.models.gnn`): its output, the
initialisation of its layers from an explicit generator, the row standardisation."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn

__all__ = ["GNNOutput", "init_linear", "standardize_rows", "uniform_parameter"]

_EPS = 1e-8  # variance floor of the standardisations


class GNNOutput(NamedTuple):
    """What :meth:`dagforge.models.gnn.DAGGNN.forward` returns.

    Attributes
    ----------
    x_hat : Tensor of shape (n, d)
        Prediction (``"message"``) or reconstruction (``"linear"``) of ``X``.
    z_mean : Tensor of shape (n, d, latent), or None
        ``"linear"``: posterior mean of the latent noise :math:`Z = (I - A^\\top)
        f_{enc}(X)`; ``"message"``: the mean messages ``H`` with ``variational=True``,
        else None (the noise is then the residual ``X - x_hat``).
    z_logvar : Tensor of shape (d, latent), or None
        Posterior log-variance (``variational=True`` only).
    adjacency : Tensor of shape (d, d)
        The adjacency used in this pass (a Gumbel-sigmoid sample in soft training mode).
    """

    x_hat: Tensor
    z_mean: Tensor | None
    z_logvar: Tensor | None
    adjacency: Tensor


def uniform_parameter(shape: tuple[int, ...], fan_in: int, gen: torch.Generator,
             dtype: torch.dtype) -> nn.Parameter:
    """Parameter drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (``nn.Linear``'s range)."""
    bound = 1.0 / math.sqrt(fan_in)
    return nn.Parameter((2.0 * torch.rand(shape, generator=gen, dtype=dtype) - 1.0) * bound)


def init_linear(m_in: int, m_out: int, gen: torch.Generator, dtype: torch.dtype) -> nn.Linear:
    """``nn.Linear(m_in, m_out)`` initialised ``U(-1/sqrt(m_in), 1/sqrt(m_in))`` from ``gen``."""
    layer = nn.Linear(m_in, m_out, dtype=dtype)
    with torch.no_grad():
        layer.weight.copy_(uniform_parameter((m_out, m_in), m_in, gen, dtype))
        layer.bias.copy_(uniform_parameter((m_out,), m_in, gen, dtype))
    return layer


def standardize_rows(x: Tensor) -> Tensor:
    """Standardise over the rows (dim 0): zero mean, unit (population) variance."""
    return (x - x.mean(dim=0)) / torch.sqrt(x.var(dim=0, unbiased=False) + _EPS)
