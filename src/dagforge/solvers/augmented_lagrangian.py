r"""Augmented Lagrangian solver, as in NOTEARS (Zheng, Aragam, Ravikumar, Xing 2018).

Solves :math:`\min_W \ell(W) + \lambda_1 \|W\|_1` subject to :math:`h(W) = 0` by
a sequence of unconstrained problems

.. math::  \min_W \; \ell(W) + \lambda_1 \|W\|_1 + \alpha\, h(W) + \frac{\rho}{2} h(W)^2 .

After each inner solve: if :math:`h` did not fall below ``progress_rate`` times
its previous value, :math:`\rho` is multiplied by ``rho_factor`` and the inner
problem solved again from the last accepted point; otherwise the point is
accepted and the multiplier updated, :math:`\alpha \leftarrow \alpha + \rho h`.
The solve stops when :math:`h \le h_{tol}`, when :math:`\rho` reaches
``rho_max``, or after ``max_outer`` accepted steps. :math:`(\rho, \alpha)` are
returned in ``state`` so a solve can be warm-started or resumed.

A barrier constraint (:attr:`dagforge.constraints.ConstraintSpec.barrier`, e.g.
log-det) is used with its registry default ``s`` and is infinite outside its
domain, so the solve must start inside it (the zero matrix always is).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from dagforge.constraints import Constraint, acyclicity_fn, get_spec
from dagforge.errors import SolverError
from dagforge.solvers.base import (
    HistoryRecord,
    InnerOptimizer,
    InnerResult,
    Problem,
    SolverResult,
    StopReason,
    check_finite,
    term_gradient_norms,
)
from dagforge.solvers.inner import QuasiNewton

log = logging.getLogger(__name__)

__all__ = ["AugmentedLagrangianConfig", "augmented_lagrangian"]


@dataclass(frozen=True)
class AugmentedLagrangianConfig:
    """Settings of :func:`augmented_lagrangian`.

    Attributes
    ----------
    constraint : str
        Acyclicity function (``"expm"`` as in NOTEARS, or any name in
        :data:`dagforge.constraints.CONSTRAINT_SPECS`).
    lambda1 : float
        L1 weight on the adjacency parameters.
    rho_init, rho_factor, rho_max : float
        Initial penalty, its growth factor, and its cap.
    alpha_init : float
        Initial Lagrange multiplier.
    progress_rate : float
        Required relative decrease of ``h`` per accepted step.
    h_tol : float
        Acyclicity below which the solve has converged.
    max_outer : int
        Accepted outer steps at most.
    inner : InnerOptimizer
        Minimises each augmented problem (full-batch quasi-Newton by default).
    """

    constraint: str = "expm"
    lambda1: float = 0.02
    rho_init: float = 1.0
    rho_factor: float = 10.0
    rho_max: float = 1e16
    alpha_init: float = 0.0
    progress_rate: float = 0.25
    h_tol: float = 1e-8
    max_outer: int = 100
    inner: InnerOptimizer = field(default_factory=QuasiNewton)


def augmented_lagrangian(
    problem: Problem,
    config: AugmentedLagrangianConfig | None = None,
    *,
    rho: float | None = None,
    alpha: float | None = None,
) -> SolverResult:
    """Solve ``problem`` by the augmented Lagrangian method; parameters updated in place.

    ``rho`` and ``alpha`` override the config's initial values (warm start).
    """
    cfg = config or AugmentedLagrangianConfig()
    rho = cfg.rho_init if rho is None else rho
    alpha = cfg.alpha_init if alpha is None else alpha
    h_fn = acyclicity_fn(cfg.constraint)  # a barrier gets its registry default s
    if get_spec(cfg.constraint).barrier:
        _check_inside_barrier(problem, h_fn, cfg.constraint)
    params = [p for p in problem.module.parameters() if p.requires_grad]
    history: list[HistoryRecord] = []
    path: list[np.ndarray] = []
    h_val = math.inf  # the first inner solve is always accepted
    stop = StopReason.MAX_OUTER
    for step in range(cfg.max_outer):
        h_val, rho, total_inner, inner = _solve_until_progress(
            problem, cfg, h_fn, params, rho, alpha, h_val, step)
        alpha += rho * h_val
        record, W_step = _record_step(problem, cfg, h_fn, inner, step, total_inner, h_val,
                                      rho, alpha)
        history.append(record)
        path.append(W_step)
        log.info("step %d: rho=%.3g alpha=%.3g loss=%.5g h=%.3g nnz=%d",
                 step, rho, alpha, record.loss, h_val, record.nnz)
        if h_val <= cfg.h_tol:
            stop = StopReason.CONVERGED
            break
        if rho >= cfg.rho_max:
            stop = StopReason.RHO_MAX
            break
    with torch.no_grad():
        W = problem.adjacency().detach().cpu().numpy().copy()
    return SolverResult(W=W, h=h_val, stop_reason=stop, history=history,
                        n_outer=len(history), state={"rho": rho, "alpha": alpha}, path=path)


def _check_inside_barrier(problem: Problem, h_fn: Constraint, name: str) -> None:
    """A barrier is infinite outside its domain: refuse a start there at once."""
    with torch.no_grad():
        h0 = float(h_fn(problem.adjacency()))
    if not math.isfinite(h0):
        raise SolverError(f"the start lies outside the domain of the barrier constraint "
                          f"{name!r} (h = {h0}); start nearer 0 or use path_following")


def _solve_until_progress(
    problem: Problem, cfg: AugmentedLagrangianConfig, h_fn: Constraint,
    params: list[Tensor], rho: float, alpha: float, h_prev: float, step: int,
) -> tuple[float, float, int, InnerResult]:
    """Solve the augmented problem, raising ``rho`` (and restarting from the last
    accepted point) until ``h`` falls below ``progress_rate * h_prev`` or ``rho``
    reaches its cap. Returns ``(h, rho, inner iterations, last inner result)``."""
    accepted = [p.detach().clone() for p in params]
    total_inner = 0
    while True:

        def penalty(W: Tensor, rho: float = rho, alpha: float = alpha) -> Tensor:
            h = h_fn(W)
            return alpha * h + 0.5 * rho * h * h

        inner = cfg.inner(problem, 1.0, penalty, cfg.lambda1)
        total_inner += inner.n_iter
        with torch.no_grad():
            h_new = float(h_fn(problem.adjacency()))
        check_finite(h_new, "the acyclicity h", step)
        if h_new > cfg.progress_rate * h_prev and rho < cfg.rho_max:
            rho *= cfg.rho_factor
            with torch.no_grad():
                for p, a in zip(params, accepted, strict=True):
                    p.copy_(a)
            continue
        return h_new, rho, total_inner, inner


def _record_step(
    problem: Problem, cfg: AugmentedLagrangianConfig, h_fn: Constraint, inner: InnerResult,
    step: int, total_inner: int, h_val: float, rho: float, alpha: float,
) -> tuple[HistoryRecord, np.ndarray]:
    """The history record of the accepted step ``step`` and its ``W``."""
    with torch.no_grad():
        loss = float(problem.fit())
        sparsity = float(problem.l1_norm())
        nnz = int((problem.adjacency() != 0).sum())
        W_step = problem.adjacency().detach().cpu().numpy().copy()
    check_finite(loss, "the loss", step)
    g_fit, g_l1, g_h = term_gradient_norms(problem, h_fn, cfg.lambda1)
    record = HistoryRecord(
        step=step, inner_iters=total_inner, loss=loss, sparsity=cfg.lambda1 * sparsity,
        h=h_val, grad_fit=g_fit, grad_sparsity=g_l1, grad_acyclicity=g_h, lr=inner.lr,
        rho=rho, alpha=alpha, nnz=nnz,
    )
    return record, W_step
