"""What every outer solver shares: the problem it solves, stop reasons, history, results.

A solver never sees a model's internals. It sees a :class:`Problem`: a module
whose parameters it may change, a smooth data-fit term, the weighted adjacency
that the acyclicity function is applied to, and which parameters carry the L1
penalty. Models build their problem (``LinearSEM`` with a covariance and a
loss; nonlinear models with data and a trainer); solvers only call it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np
import torch
from torch import Tensor, nn

from dagforge.errors import SolverError

__all__ = [
    "HistoryRecord",
    "InnerOptimizer",
    "InnerResult",
    "Problem",
    "SolverResult",
    "StopReason",
    "check_finite",
    "term_gradient_norms",
]


class StopReason(enum.Enum):
    """Why an outer solver stopped."""

    CONVERGED = "converged"  # h below tolerance at the end of the schedule
    SCHEDULE_DONE = "schedule_done"  # path following ran every stage, h still above tolerance
    RHO_MAX = "rho_max"  # augmented Lagrangian penalty reached its cap
    MAX_OUTER = "max_outer"  # outer iteration budget spent
    NO_SOLVE = "no_solve"  # no continuous solve ran: the score's search decided alone


@dataclass
class Problem:
    """The optimisation problem an outer solver works on.

    Attributes
    ----------
    module : nn.Module
        Holds every trainable parameter.
    fit : callable () -> Tensor
        The smooth data term (loss plus any smooth regulariser such as L2), a scalar.
    adjacency : callable () -> Tensor
        The weighted adjacency ``W`` (d x d) the acyclicity function sees.
    l1_params : sequence of Tensor
        Parameters carrying the L1 penalty ``lambda1 * sum |p|``.
    batch_fit : callable (Tensor) -> Tensor, optional
        The data term on a mini-batch of rows ``[b, d]`` (for mini-batch inner
        optimisers; ``fit()`` is then usually ``batch_fit(data)``).
    data : Tensor, optional
        The rows ``[n, d]`` that ``batch_fit`` takes batches of.
    l1_weights : sequence of Tensor, optional
        Per-element multipliers of the L1 weight, one tensor of the same shape per
        entry of ``l1_params`` (0 exempts an element, e.g. the parameters of a
        required edge, see :mod:`dagforge.knowledge`); ``None``: all 1.
    """

    module: nn.Module
    fit: Callable[[], Tensor]
    adjacency: Callable[[], Tensor]
    l1_params: Sequence[Tensor] = field(default_factory=list)
    batch_fit: Callable[[Tensor], Tensor] | None = None
    data: Tensor | None = None
    l1_weights: Sequence[Tensor] | None = None

    def __post_init__(self) -> None:
        if self.l1_weights is not None:
            if len(self.l1_weights) != len(self.l1_params) or any(
                    tuple(w.shape) != tuple(p.shape)
                    for w, p in zip(self.l1_weights, self.l1_params, strict=True)):
                raise SolverError("l1_weights must match l1_params one to one in shape")

    def l1_weight_list(self) -> list[Tensor | None]:
        """The multiplier tensor of each L1 parameter (``None``: all 1)."""
        if self.l1_weights is None:
            return [None] * len(self.l1_params)
        return list(self.l1_weights)

    def l1_norm(self) -> Tensor:
        """``sum w * |p|`` over the L1-penalised parameters (``w``: :attr:`l1_weights`)."""
        if not self.l1_params:
            return torch.zeros((), dtype=torch.float64)
        return sum(p.abs().sum() if w is None else (w * p.abs()).sum()
                   for p, w in zip(self.l1_params, self.l1_weight_list(), strict=True)
                   )  # type: ignore[return-value]


@dataclass
class InnerResult:
    """What an inner minimisation reports back to the outer solver."""

    n_iter: int
    n_eval: int
    converged: bool
    message: str
    lr: float = math.nan  # last step size or learning rate


class InnerOptimizer(Protocol):
    """Minimises, in place and from the parameters' current values,

    ``fit_weight * problem.fit() + penalty(problem.adjacency()) + l1 * problem.l1_norm()``

    over ``problem.module``'s parameters. The outer solver chooses the three:
    path following passes ``(mu, h_s, mu * lambda1)``, the augmented Lagrangian
    ``(1, alpha h + rho h^2 / 2, lambda1)``. A mini-batch optimiser replaces
    ``problem.fit()`` by ``problem.batch_fit(batch)``.
    """

    def __call__(
        self, problem: Problem, fit_weight: float, penalty: Callable[[Tensor], Tensor], l1: float
    ) -> InnerResult:
        ...


@dataclass
class HistoryRecord:
    """One outer step: objective terms, acyclicity and per-term gradient norms."""

    step: int
    inner_iters: int
    loss: float
    sparsity: float
    h: float
    grad_fit: float
    grad_sparsity: float
    grad_acyclicity: float
    lr: float
    mu: float = math.nan
    s: float = math.nan
    rho: float = math.nan
    alpha: float = math.nan
    nnz: int = 0

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass
class SolverResult:
    """Outcome of an outer solver."""

    W: np.ndarray  # continuous weighted adjacency, d x d
    h: float
    stop_reason: StopReason
    history: list[HistoryRecord]
    n_outer: int
    state: dict[str, float] = field(default_factory=dict)  # multipliers etc., for warm starts
    path: list[np.ndarray] = field(default_factory=list)  # W after each outer step


def check_finite(value: float, what: str, step: int) -> None:
    """Raise :class:`SolverError` naming the step if ``value`` is NaN or infinite."""
    if not math.isfinite(value):
        raise SolverError(f"{what} became {value} at outer step {step}; the solve diverged")


def term_gradient_norms(
    problem: Problem, h_fn: Callable[[Tensor], Tensor], lambda1: float
) -> tuple[float, float, float]:
    """Euclidean norms of the gradients of the fit term, the L1 term (its
    subgradient ``lambda1 * sign(p)``) and the acyclicity term, at the current point."""
    params = [p for p in problem.module.parameters() if p.requires_grad]

    def norm_of(t: Tensor) -> float:
        grads = torch.autograd.grad(t, params, allow_unused=True)
        return math.sqrt(sum(float((g * g).sum()) for g in grads if g is not None))

    g_fit = norm_of(problem.fit())
    g_h = norm_of(h_fn(problem.adjacency()))
    g_l1 = lambda1 * math.sqrt(sum(
        float((p != 0).sum()) if w is None else float(((p != 0) * w * w).sum())
        for p, w in zip(problem.l1_params, problem.l1_weight_list(), strict=True)))
    return g_fit, g_l1, g_h
