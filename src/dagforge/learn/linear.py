"""The linear learner: solve the linear SEM from the covariance, cut, refine by BIC.

``run(data, params) -> FitResult``. The refinement climbs the registered score
``params.score`` (:mod:`dagforge.search.scores`). Interventional data are fitted by
blocks of rows per mechanism (:func:`moments`), and scored by an interventional score.
Under ``loss="auto"`` the first solve uses least squares (equal noise variances); if BIC
says one variance per variable fits that graph better, a second solve with the Gaussian
likelihood of unequal variances is refined too, and BIC chooses between the two graphs
(:func:`dagforge.learn.policy.prefers_unequal_noise`).
"""

from __future__ import annotations

import numpy as np
import torch

from dagforge.data import Dataset
from dagforge.learn import policy
from dagforge.learn.cut import cut_to_dag
from dagforge.learn.result import FitParams, FitResult
from dagforge.models.linear import LinearMoments, LinearSEM, Moments, covariance, get_loss
from dagforge.search import build_score, choose_noise_model, get_score, refine_graph
from dagforge.solvers import make_solver_config, run_solver
from dagforge.solvers.base import Problem, SolverResult

__all__ = ["moments", "run", "solve"]


def moments(data: Dataset, soft: bool, device: torch.device) -> Moments:
    """What the solver fits: the covariance (d x d) of observational data; for
    interventional data one block of rows per mechanism (:class:`LinearMoments`):
    each group of variables on the rows of the regimes that did not intervene on it,
    and with ``soft`` each intervening regime's rows for its targets too."""
    if data.observational:
        return covariance(data.values, device=device)  # [d, d]
    m = data.regime_moments()
    n = float(m.counts.sum())
    keeps, group = m.variable_groups()
    blocks = []
    for g, keep in enumerate(keeps):
        S, n_g = m.pooled(keep)
        blocks.append((S, np.flatnonzero(group == g), n_g / n))
    cuts = []
    for k in range(len(m.labels)):
        targets = np.flatnonzero(m.targets[k])
        if soft and len(targets):
            C, n_k = m.regime_covariance(k)
            blocks.append((C, targets, n_k / n))
        cuts.append((targets[:0] if soft else targets, m.counts[k] / n))
    return LinearMoments.from_blocks(blocks, cuts, device)


def solve(S: Moments, loss_name: str, params: FitParams) -> SolverResult:
    """Run the solver on the linear SEM with the moments ``S`` (a d x d covariance or
    :class:`LinearMoments`, on the fit's device) and loss ``loss_name``; edges outside
    ``params.allowed`` are masked out, ``params.required`` ones carry no L1 penalty."""
    C = S if isinstance(S, torch.Tensor) else S.blocks[0][0]  # [d, d]
    d, device = C.shape[0], C.device
    model = LinearSEM(d, mask=params.allowed).to(device)
    loss = get_loss(loss_name)
    l1_weights = None
    if params.required is not None and params.required.any():
        l1_weights = [torch.as_tensor(~params.required, dtype=model.weight.dtype,
                                      device=device)]
    problem = Problem(
        module=model,
        fit=lambda: loss(model.adjacency(), S),
        adjacency=model.adjacency,
        l1_params=[model.weight],
        l1_weights=l1_weights,
    )
    config = make_solver_config(
        params.solver, constraint=params.constraint, lambda1=params.lambda1,
        options={**params.spec.solver_options(params.solver), **params.solver_options},
    )
    return run_solver(params.solver, problem, config)


def run(data: Dataset, params: FitParams) -> FitResult:
    """Solve, threshold and (with ``params.refine == "hill_climb"``) refine; see the
    module docstring."""
    if not data.continuous:  # binary / categorical columns: on their embedding
        from dagforge.learn import typed

        return typed.run(data, params)
    X = data.values
    d = data.d
    first = policy.first_linear_loss(params.loss, get_score(params.score))
    noise = "equal" if first == "ls" else "unequal"
    score = build_score(params.score, data, noise=noise, penalty=params.penalty,
                        gamma=params.gamma)
    S_t = moments(data, params.interventions == "soft", params.device)
    result = solve(S_t, first, params)
    weights, threshold = cut_to_dag(result.W, X, "linear", params)
    if params.refine == "none":
        return FitResult(solver=result, weights=weights, threshold=threshold,
                         noise_model=noise)
    small = policy.multistart(d)
    kw = dict(allowed=params.allowed, required=params.required, kicks=policy.kicks(d),
              multistart=small, rng=np.random.default_rng(params.random_state or 0))
    scores = {noise: score}

    def refined(res: SolverResult, model: str) -> tuple[SolverResult, np.ndarray, dict]:
        path = list(res.path) if small else [res.path[-1]]
        return (res, *refine_graph(scores[model], path, threshold, **kw))  # type: ignore

    fits = {noise: refined(result, noise)}
    if noise == "equal" and params.loss == "auto":
        scores["unequal"] = build_score(params.score, data, noise="unequal",
                                        penalty=params.penalty, gamma=params.gamma)
        if policy.prefers_unequal_noise(scores, fits["equal"][1] != 0, params.penalty):
            fits["unequal"] = refined(solve(S_t, "nll", params), "unequal")
    noise, noise_scores = choose_noise_model(
        scores, {nm: w for nm, (_, w, _) in fits.items()}, params.penalty)
    result, weights, refine_scores = fits[noise]
    return FitResult(solver=result, weights=weights, threshold=threshold, noise_model=noise,
                     refine_scores=refine_scores, noise_scores=noise_scores)
