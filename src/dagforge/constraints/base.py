"""What every acyclicity function shares: the call protocol and the float64 cast of ``W``.

The helpers (:func:`as_f64`, :func:`eye`, :data:`F64`) are for the function
modules of this package and for user constraints that want the same input rules.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch
from torch import Tensor

from dagforge.errors import GraphError

__all__ = ["EPS", "F64", "Constraint", "as_f64", "eye"]

#: Every acyclicity function computes in this dtype, whatever the input's.
F64 = torch.float64
#: Machine epsilon of float64.
EPS = float(np.finfo(np.float64).eps)


class Constraint(Protocol):
    """An acyclicity function: ``h(W) -> float64 scalar tensor`` (extra options by keyword)."""

    def __call__(self, W: Tensor, /) -> Tensor: ...


def as_f64(W: Tensor | np.ndarray) -> Tensor:
    """``W`` as a float64 tensor (differentiable cast), or :class:`GraphError` if not square."""
    if not isinstance(W, Tensor):
        W = torch.as_tensor(np.asarray(W))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise GraphError(f"W must be a square (d x d) matrix, got shape {tuple(W.shape)}")
    if W.dtype.is_complex:
        raise GraphError("W must be real, got a complex tensor")
    return W.to(F64)


def eye(d: int, like: Tensor) -> Tensor:
    """The float64 ``d x d`` identity on ``like``'s device."""
    return torch.eye(d, dtype=F64, device=like.device)
