r"""Central-path (path-following) solver, as in DAGMA (Bello, Aragam, Ravikumar 2022).

For a decreasing sequence :math:`\mu_0 > \mu_1 > \dots > \mu_{T-1}` it solves

.. math::  W^{(t)} = \arg\min_W \; \mu_t \big( \ell(W) + \lambda_1 \|W\|_1 \big) + h(W),

each stage warm-started at the last. With the log-det function
:math:`h_s(W) = -\log\det(sI - W \circ W) + d \log s` the iterates stay inside
:math:`\{\rho(W \circ W) < s\}` (a barrier), and as :math:`\mu \to 0` the path
ends at a DAG. A constraint whose registry entry is a barrier
(:attr:`dagforge.constraints.ConstraintSpec.barrier`, log-det's is) gets each
stage's own ``s_t``; if the warm start lies outside that stage's domain, ``s_t``
is raised by ``s_step`` until it does not (DAGMA does the same). Any other
registered acyclicity function works too, without ``s``.

After the schedule, stages with :math:`\mu` divided by ``mu_factor`` again are
added (up to ``max_extra_stages``) while :math:`h > h_{tol}`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from dagforge.constraints import Constraint, acyclicity_fn, get_spec
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
from dagforge.solvers.owlqn import OWLQNConfig

log = logging.getLogger(__name__)

__all__ = ["PathFollowingConfig", "path_following"]


@dataclass(frozen=True)
class PathFollowingConfig:
    """Settings of :func:`path_following`.

    Attributes
    ----------
    constraint : str
        Acyclicity function, a name in :data:`dagforge.constraints.CONSTRAINT_SPECS`
        (``"logdet"``, ``"expm"``, ``"poly"``, ``"spectral"`` or a registered one).
    lambda1 : float
        L1 weight on the adjacency parameters.
    mu_init : float
        Weight of the score in the first stage.
    mu_factor : float
        ``mu`` is multiplied by it after every stage.
    s : tuple of float
        Barrier parameter of each stage (used by barrier constraints only); its
        length is the number of stages ``T``.
    s_step : float
        Increase of ``s`` when the warm start is outside the barrier's domain.
    h_tol : float
        Acyclicity below which the solve counts as converged.
    max_extra_stages : int
        Stages added after the schedule while ``h > h_tol``.
    inner : InnerOptimizer
        Minimises the warm-up stages (all but the last of the schedule). By
        default OWL-QN stopped at a relative change of 1e-5 or 100 iterations:
        these stages only warm-start the next, so they are solved loosely
        (see ``docs/tuning.md#linear-solver-stages``).
    final_inner : InnerOptimizer
        Minimises the last stage of the schedule and any extra stage (relative
        change 1e-6, up to 150 iterations, see ``docs/tuning.md#linear-solver-stages``);
        later stages run while ``h > h_tol``.
    """

    constraint: str = "logdet"
    lambda1: float = 0.02
    mu_init: float = 1.0
    mu_factor: float = 0.1
    s: tuple[float, ...] = (1.0, 0.9, 0.8, 0.7)
    s_step: float = 0.1
    h_tol: float = 1e-8
    max_extra_stages: int = 2
    inner: InnerOptimizer = field(
        default_factory=lambda: QuasiNewton(OWLQNConfig(tol_change=1e-5, max_iter=100))
    )
    final_inner: InnerOptimizer = field(
        default_factory=lambda: QuasiNewton(OWLQNConfig(tol_change=1e-6, max_iter=150))
    )


def path_following(
    problem: Problem, config: PathFollowingConfig | None = None, *, start_stage: int = 0
) -> SolverResult:
    """Solve ``problem`` along the central path; parameters are updated in place.

    Parameters
    ----------
    problem : Problem
        Model-side problem; its parameters are the warm start.
    config : PathFollowingConfig, optional
    start_stage : int
        First stage to run (to continue an interrupted solve from a checkpoint).

    Returns
    -------
    SolverResult
        With ``state = {"stage": t, "mu": mu}`` of the last finished stage.
    """
    cfg = config or PathFollowingConfig()
    barrier = get_spec(cfg.constraint).barrier
    history: list[HistoryRecord] = []
    path: list[np.ndarray] = []
    n_stages = len(cfg.s) + cfg.max_extra_stages
    mu = cfg.mu_init * cfg.mu_factor**start_stage
    h_val = math.inf
    stop = StopReason.SCHEDULE_DONE
    t = start_stage
    for t in range(start_stage, n_stages):
        if t >= len(cfg.s) and h_val <= cfg.h_tol:
            break
        h_fn, s = _stage_constraint(problem, cfg, t, barrier)
        optimiser = cfg.inner if t < len(cfg.s) - 1 else cfg.final_inner
        inner = optimiser(problem, mu, h_fn, mu * cfg.lambda1)
        record, W_t = _record_stage(problem, cfg, h_fn, inner, t, mu, s)
        history.append(record)
        path.append(W_t)
        h_val = record.h
        log.info("stage %d: mu=%.3g s=%.2f loss=%.5g h=%.3g nnz=%d (%d inner iterations, %s)",
                 t, mu, s, record.loss, h_val, record.nnz, inner.n_iter, inner.message)
        mu *= cfg.mu_factor
    else:
        t = n_stages
    if h_val <= cfg.h_tol:
        stop = StopReason.CONVERGED
    with torch.no_grad():
        W = problem.adjacency().detach().cpu().numpy().copy()
    return SolverResult(W=W, h=h_val, stop_reason=stop, history=history,
                        n_outer=len(history), state={"stage": t, "mu": mu}, path=path)


def _stage_constraint(
    problem: Problem, cfg: PathFollowingConfig, t: int, barrier: bool
) -> tuple[Constraint, float]:
    """Stage ``t``'s acyclicity function and its ``s`` (NaN unless a barrier).

    A barrier gets the schedule's ``s_t``, raised by ``s_step`` until the warm
    start lies inside its domain (where it is finite).
    """
    if not barrier:
        return acyclicity_fn(cfg.constraint), math.nan
    s = cfg.s[min(t, len(cfg.s) - 1)]
    h_fn = acyclicity_fn(cfg.constraint, s=s)
    with torch.no_grad():
        while not math.isfinite(float(h_fn(problem.adjacency()))):
            s += cfg.s_step
            h_fn = acyclicity_fn(cfg.constraint, s=s)
            log.info("stage %d: warm start outside the barrier's domain, s raised to %.2f",
                     t, s)
    return h_fn, s


def _record_stage(
    problem: Problem, cfg: PathFollowingConfig, h_fn: Constraint, inner: InnerResult,
    t: int, mu: float, s: float,
) -> tuple[HistoryRecord, np.ndarray]:
    """The history record of the finished stage ``t`` and its ``W``; a non-finite loss
    or ``h`` is a :class:`~dagforge.errors.SolverError`."""
    with torch.no_grad():
        W = problem.adjacency()
        loss = float(problem.fit())
        h_val = float(h_fn(W))  # for a barrier: h_s at this stage's s
        sparsity = float(problem.l1_norm())
        nnz = int((W != 0).sum())
        W_t = W.detach().cpu().numpy().copy()
    check_finite(loss, "the loss", t)
    check_finite(h_val, "the acyclicity h", t)
    g_fit, g_l1, g_h = term_gradient_norms(problem, h_fn, cfg.lambda1)
    record = HistoryRecord(
        step=t, inner_iters=inner.n_iter, loss=loss, sparsity=cfg.lambda1 * sparsity,
        h=h_val, grad_fit=g_fit, grad_sparsity=g_l1, grad_acyclicity=g_h, lr=inner.lr,
        mu=mu, s=s, nnz=nnz,
    )
    return record, W_t
