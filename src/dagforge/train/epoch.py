r"""One epoch of the trainer: mini-batch gradients, clipping, the Adam step and the L1 step;
and the objective on held-out rows that judges it.

For each mini-batch ``B`` the smooth objective :math:`c\,\ell_B + p(W)` is
differentiated, the fit and acyclicity terms separately so that their norms can be
logged; the total norm is taken before clipping (``torch.nn.utils``); then
``torch.optim.Adam`` steps and the L1 term is applied (:func:`proximal_l1` or a
subgradient added before clipping). The pass stops at the first non-finite value
and says where, so that the trainer can roll the epoch back.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn.utils import clip_grad_norm_, get_total_norm
from torch.optim import Adam

from dagforge.solvers.base import Problem
from dagforge.train.config import TrainConfig

__all__ = ["EpochStats", "EpochTerms", "adam_metric", "objective", "proximal_l1", "run_epoch"]


@dataclass
class EpochStats:
    """Sums over one epoch's optimiser steps (the trainer turns them into a history row)."""

    steps: int = 0
    objective: float = 0.0  # sum of c*l_B + p over the batches
    grad_fit: float = 0.0  # sum of |grad c*l_B|
    grad_pen: float = 0.0  # sum of |grad p|
    grad_norm: float = 0.0  # sum of the total gradient norms before clipping
    grad_max: float = 0.0  # largest of the same
    clipped: int = 0
    failure: str | None = None  # "what at epoch e, step k" when something was not finite


@dataclass(frozen=True)
class EpochTerms:
    """What one inner call minimises: ``fit_weight * fit + penalty(W) + l1 * |Q|_1``."""

    fit_weight: float
    penalty: Callable[[Tensor], Tensor]
    l1: float


def objective(problem: Problem, rows: Tensor, terms: EpochTerms) -> tuple[float, float]:
    """``(F on rows, penalty)`` in evaluation mode (no sampling), without gradients."""
    module = problem.module
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            pen = float(terms.penalty(problem.adjacency()))
            fit = float(problem.batch_fit(rows))  # type: ignore[misc]
            l1 = float(problem.l1_norm()) if terms.l1 else 0.0
    finally:
        module.train(was_training)
    return terms.fit_weight * fit + pen + terms.l1 * l1, pen


def _norm(grads: Sequence[Tensor | None]) -> float:
    """Euclidean norm of the gradients (``None`` entries skipped)."""
    return float(get_total_norm([g for g in grads if g is not None]))


def adam_metric(optimizer: Adam, p: Tensor) -> Tensor:
    r""":math:`D = \sqrt{\hat v} + \epsilon` of parameter ``p``: Adam divides its step by it.

    Computed as ``torch.optim.Adam``'s single-tensor step does, from its state
    ``exp_avg_sq`` and ``step``; before a first step :math:`v = 0`.
    """
    group = optimizer.param_groups[0]
    beta2, eps = group["betas"][1], group["eps"]
    state = optimizer.state.get(p)
    if not state:
        return torch.full_like(p, eps)
    bias_correction2_sqrt = (1 - beta2 ** float(state["step"])) ** 0.5
    return (state["exp_avg_sq"].sqrt() / bias_correction2_sqrt).add_(eps)


def proximal_l1(optimizer: Adam, problem: Problem, l1: float) -> None:
    r"""Soft-threshold the L1 parameters in Adam's metric, in place.

    :math:`q \leftarrow S_{\eta\lambda w / D}(q)` with :math:`S_\tau(x) =
    \operatorname{sign}(x)\max(|x| - \tau, 0)`, :math:`D` from :func:`adam_metric` and
    ``w`` the per-element L1 weights (0 exempts an element, e.g. a required edge).
    """
    lr = optimizer.param_groups[0]["lr"]
    with torch.no_grad():
        for p, w in zip(problem.l1_params, problem.l1_weight_list(), strict=True):
            thr = (lr * l1) / adam_metric(optimizer, p)
            if w is not None:
                thr = thr * w
            p.copy_(torch.sign(p) * torch.clamp(p.abs() - thr, min=0.0))


def _set_gradients(params: Sequence[Tensor], g_fit: Sequence[Tensor | None],
                   g_pen: Sequence[Tensor | None]) -> None:
    """``p.grad = g_fit + g_pen`` (``None`` where neither term reaches ``p``)."""
    for p, a, b in zip(params, g_fit, g_pen, strict=True):
        p.grad = a if b is None else (b.to(p.dtype) if a is None else a + b.to(p.dtype))


def _add_l1_subgradient(problem: Problem, l1: float) -> None:
    """Add :math:`\\lambda w\\,\\operatorname{sign}(q)` to the gradient of every L1 parameter."""
    for q, w in zip(problem.l1_params, problem.l1_weight_list(), strict=True):
        if q.requires_grad:
            g = torch.zeros_like(q) if q.grad is None else q.grad
            q.grad = g + l1 * (1.0 if w is None else w) * q.detach().sign()


def _step(problem: Problem, rows: Tensor, optimizer: Adam, params: Sequence[Tensor],
          config: TrainConfig, terms: EpochTerms, stats: EpochStats) -> str | None:
    """One optimiser step on ``rows``; what was not finite, or ``None``."""
    fit = terms.fit_weight * problem.batch_fit(rows)  # type: ignore[misc]
    pen = terms.penalty(problem.adjacency())
    value = float(fit.detach()) + float(pen.detach())
    if not math.isfinite(value):
        return f"objective {value}"
    g_fit = torch.autograd.grad(fit, params, allow_unused=True)
    g_pen = (torch.autograd.grad(pen, params, allow_unused=True) if pen.requires_grad
             else [None] * len(params))
    grad_fit, grad_pen = _norm(g_fit), _norm(g_pen)  # before clipping changes them
    _set_gradients(params, g_fit, g_pen)
    if terms.l1 and config.l1_mode == "subgradient":
        _add_l1_subgradient(problem, terms.l1)
    clip = config.clip_grad_norm
    total = float(get_total_norm([p.grad for p in params if p.grad is not None])
                  if clip is None else clip_grad_norm_(params, clip))  # norm before clipping
    if not math.isfinite(total):
        return f"gradient norm {total}"
    optimizer.step()
    if terms.l1 and config.l1_mode == "proximal":
        proximal_l1(optimizer, problem, terms.l1)
    stats.steps += 1
    stats.objective += value
    stats.grad_fit += grad_fit
    stats.grad_pen += grad_pen
    stats.grad_norm += total
    stats.grad_max = max(stats.grad_max, total)
    stats.clipped += int(clip is not None and total > clip)
    return None


def run_epoch(problem: Problem, train: Tensor, optimizer: Adam, *, config: TrainConfig,
              terms: EpochTerms, generator: torch.Generator, epoch: int) -> EpochStats:
    """One pass over the training rows ``[n, d]``, shuffled by ``generator`` into batches.

    ``epoch`` (from 1) only names the place of a failure. Stops at the first
    non-finite objective or gradient (``EpochStats.failure``).
    """
    params = [p for group in optimizer.param_groups for p in group["params"]]
    n = train.shape[0]
    bs = n if config.batch_size is None else min(config.batch_size, n)
    order = torch.randperm(n, generator=generator).to(train.device) if bs < n else None
    stats = EpochStats()
    for start in range(0, n, bs):
        rows = train if order is None else train[order[start:start + bs]]  # [b, d]
        failure = _step(problem, rows, optimizer, params, config, terms, stats)
        if failure is not None:
            stats.failure = f"{failure} at epoch {epoch}, step {stats.steps + 1}"
            break
    optimizer.zero_grad(set_to_none=True)  # no gradient outlives the pass
    return stats
