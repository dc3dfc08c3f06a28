r"""OWL-QN: limited-memory quasi-Newton for smooth + L1 objectives, with a barrier.

Minimises

.. math::  F(x) = f(x) + \sum_i c_i |x_i|,  \qquad c_i \ge 0,

where ``f`` is smooth (Andrew & Gao 2007, "Scalable training of L1-regularized
log-linear models"). Each iteration

1. forms the pseudo-gradient :math:`\diamond F` (the minimum-norm subgradient);
2. takes the L-BFGS direction :math:`d = -H \diamond F` and zeroes its
   components that do not point downhill;
3. searches along ``d`` with backtracking (Armijo), projecting every trial
   point onto the orthant of the current iterate, so L1 produces exact zeros.

``f`` may return ``+inf`` (or NaN) outside its domain, e.g. the log-det
acyclicity function outside :math:`\{\rho(W \circ W) < s\}`; the line search
then halves the step, so iterates started inside the domain stay inside it.
Everything is in torch, so it runs on whatever device ``x`` lives on.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

log = logging.getLogger(__name__)

__all__ = ["OWLQNConfig", "OWLQNResult", "owlqn", "pseudo_gradient"]

SmoothFn = Callable[[Tensor], tuple[float, Tensor]]


@dataclass(frozen=True)
class OWLQNConfig:
    """Settings of :func:`owlqn`.

    Attributes
    ----------
    max_iter : int
        Iterations at most.
    memory : int
        Number of (s, y) pairs kept for the L-BFGS approximation.
    tol_grad : float
        Stop when the largest pseudo-gradient entry is below it.
    tol_change : float
        Stop when the objective decreases by less than ``tol_change * max(1, |F|)``
        in one iteration.
    max_backtracks : int
        Step halvings in one line search before giving up.
    armijo : float
        Sufficient-decrease constant of the line search.
    """

    max_iter: int = 1000
    memory: int = 10
    tol_grad: float = 1e-6
    tol_change: float = 1e-10
    max_backtracks: int = 40
    armijo: float = 1e-4


@dataclass
class OWLQNResult:
    """Outcome of :func:`owlqn`: the iterate, its objective and how it stopped."""

    x: Tensor
    f: float  # smooth part at x
    F: float  # f + L1 at x
    grad: Tensor  # gradient of the smooth part at x
    n_iter: int
    n_eval: int
    converged: bool
    message: str


def pseudo_gradient(x: Tensor, g: Tensor, c: Tensor) -> Tensor:
    r"""Minimum-norm subgradient of :math:`f(x) + \sum_i c_i |x_i|`.

    For :math:`x_i \ne 0` it is :math:`g_i + c_i \operatorname{sign}(x_i)`; at
    :math:`x_i = 0` it is :math:`g_i + c_i` if that is negative, :math:`g_i - c_i`
    if that is positive, and 0 otherwise (zero is optimal in that coordinate).
    """
    right = g + c  # derivative to the right of 0
    left = g - c  # derivative to the left of 0
    at_zero = torch.where(right < 0, right, torch.where(left > 0, left, torch.zeros_like(g)))
    return torch.where(x != 0, g + c * torch.sign(x), at_zero)


def _two_loop(pg: Tensor, mem: deque[tuple[Tensor, Tensor, float]]) -> Tensor:
    """L-BFGS two-loop recursion: returns ``-H pg``."""
    q = pg.clone()
    alphas = []
    for s, y, rho in reversed(mem):
        a = rho * torch.dot(s, q)
        q -= a * y
        alphas.append(a)
    if mem:
        s, y, _ = mem[-1]
        q *= torch.dot(s, y) / torch.dot(y, y)
    for (s, y, rho), a in zip(mem, reversed(alphas), strict=True):
        b = rho * torch.dot(y, q)
        q += (a - b) * s
    return -q


def owlqn(
    fun: SmoothFn,
    x0: Tensor,
    l1: Tensor | float,
    config: OWLQNConfig | None = None,
) -> OWLQNResult:
    """Minimise ``fun(x)[0] + sum(l1 * |x|)`` from ``x0``.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (f, grad)``: the smooth part's value (a Python float, ``inf``
        outside its domain) and gradient (a tensor shaped like ``x``).
    x0 : Tensor of shape (p,)
        Starting point; must be inside ``f``'s domain (if not, nothing is done and
        the result says so: ``converged=False``, ``n_iter=0``).
    l1 : Tensor of shape (p,) or float
        Non-negative L1 weights (0 where an entry is not penalised).
    config : OWLQNConfig, optional

    Returns
    -------
    OWLQNResult
    """
    cfg = config or OWLQNConfig()
    x = x0.detach().clone()
    c = torch.as_tensor(l1, dtype=x.dtype, device=x.device).expand_as(x)
    f, g = fun(x)
    n_eval = 1
    if not math.isfinite(f):
        log.warning("owlqn: the objective is not finite at the starting point")
        return OWLQNResult(x=x, f=f, F=math.inf, grad=g, n_iter=0, n_eval=1, converged=False,
                           message="objective not finite at the starting point")
    F = f + float(torch.sum(c * x.abs()))
    mem: deque[tuple[Tensor, Tensor, float]] = deque(maxlen=cfg.memory)
    message = "max_iter reached"
    converged = False
    it = 0
    for it in range(1, cfg.max_iter + 1):  # noqa: B007
        pg = pseudo_gradient(x, g, c)
        pg_max = float(pg.abs().max()) if pg.numel() else 0.0
        if pg_max <= cfg.tol_grad:
            message, converged = "pseudo-gradient below tolerance", True
            break
        d = _two_loop(pg, mem)
        d = torch.where(d * pg < 0, d, torch.zeros_like(d))  # keep downhill components
        if float(torch.dot(d, pg)) >= 0 or not torch.any(d != 0):
            mem.clear()
            d = -pg
        orthant = torch.where(x != 0, torch.sign(x), torch.sign(-pg))
        step = 1.0 if mem else min(1.0, 1.0 / float(pg.abs().sum()))
        accepted = False
        for _ in range(cfg.max_backtracks):
            x_new = x + step * d
            x_new = torch.where(torch.sign(x_new) == orthant, x_new, torch.zeros_like(x_new))
            f_new, g_new = fun(x_new)
            n_eval += 1
            if math.isfinite(f_new):
                F_new = f_new + float(torch.sum(c * x_new.abs()))
                if F_new <= F + cfg.armijo * float(torch.dot(pg, x_new - x)):
                    accepted = True
                    break
            step *= 0.5
        if not accepted:
            message, converged = "line search found no decrease", True
            break
        s, y = x_new - x, g_new - g
        sy = float(torch.dot(s, y))
        if sy > 1e-12 * float(torch.dot(y, y)) and sy > 0:
            mem.append((s, y, 1.0 / sy))
        decrease = F - F_new
        x, f, g, F = x_new, f_new, g_new, F_new
        if decrease <= cfg.tol_change * max(1.0, abs(F)):
            message, converged = "objective change below tolerance", True
            break
    log.debug("owlqn: %s after %d iterations (%d evaluations), F=%.6g", message, it, n_eval, F)
    return OWLQNResult(x=x, f=f, F=F, grad=g, n_iter=it, n_eval=n_eval,
                       converged=converged, message=message)
