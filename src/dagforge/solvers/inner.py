"""Full-batch inner minimisation of a :class:`~dagforge.solvers.base.Problem` with OWL-QN."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from dagforge.solvers.base import InnerResult, Problem
from dagforge.solvers.owlqn import OWLQNConfig, owlqn

__all__ = ["QuasiNewton"]


@dataclass(frozen=True)
class QuasiNewton:
    """Inner optimiser: OWL-QN over all trainable parameters, exact L1 on ``l1_params``
    (each element weighted by ``l1_weights`` when the problem has them).

    A smooth objective that is NaN or infinite (outside the acyclicity function's
    domain) makes the line search step back, so iterates stay feasible.
    """

    config: OWLQNConfig = field(default_factory=OWLQNConfig)

    def __call__(
        self, problem: Problem, fit_weight: float, penalty: Callable[[Tensor], Tensor], l1: float
    ) -> InnerResult:
        params = [p for p in problem.module.parameters() if p.requires_grad]
        l1_of = {id(p): w for p, w in zip(problem.l1_params, problem.l1_weight_list(),
                                           strict=True)}

        def l1_weights(p: Tensor) -> Tensor:
            if id(p) not in l1_of:
                return torch.zeros(p.numel(), dtype=p.dtype, device=p.device)
            w = l1_of[id(p)]
            if w is None:
                return torch.full((p.numel(),), l1, dtype=p.dtype, device=p.device)
            return (l1 * w).to(dtype=p.dtype, device=p.device).reshape(-1)

        weights = torch.cat([l1_weights(p) for p in params])  # [n_params]

        def fun(x: Tensor) -> tuple[float, Tensor]:
            with torch.no_grad():
                vector_to_parameters(x, params)
            with torch.enable_grad():
                f = fit_weight * problem.fit() + penalty(problem.adjacency())
                value = float(f.detach())
                if not math.isfinite(value):
                    return math.inf, torch.zeros_like(x)
                grads = torch.autograd.grad(f, params, allow_unused=True)
            g = torch.cat([
                (gr if gr is not None else torch.zeros_like(p)).reshape(-1)
                for gr, p in zip(grads, params, strict=True)
            ])
            if not torch.all(torch.isfinite(g)):
                return math.inf, torch.zeros_like(x)
            return value, g

        x0 = parameters_to_vector(params).detach()
        res = owlqn(fun, x0, weights, self.config)
        with torch.no_grad():
            vector_to_parameters(res.x, params)
        return InnerResult(n_iter=res.n_iter, n_eval=res.n_eval, converged=res.converged,
                           message=res.message)
