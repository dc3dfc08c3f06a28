"""The linear learner on binary, categorical and mixed columns.

``run(data, params) -> FitResult``: the linear SEM is solved on the standardised
one-hot embedding of the table (:mod:`dagforge.embedding`; no weight inside a
variable's own block), each solver iterate read at the variable level as the norms of
its blocks of weights; those start the BIC search, which climbs the registered score
``params.score`` (for all-discrete data the multinomial BIC or BDeu, for mixed data the
Gaussian BIC of the embedding: :mod:`dagforge.search.scores`). The score decides the
graph; the solve only proposes where to start.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dagforge.data import Dataset
from dagforge.embedding import block_mask, block_norms, embed
from dagforge.learn import policy
from dagforge.learn.result import FitParams, FitResult
from dagforge.models.linear import covariance
from dagforge.search import build_score, refine_graph

__all__ = ["run"]


def run(data: Dataset, params: FitParams) -> FitResult:
    """Solve on the embedding, read it per variable, cut, refine; see the module docstring."""
    from dagforge.graph import threshold_to_dag
    from dagforge.learn.linear import solve

    if not data.observational:
        from dagforge.errors import DataError

        raise DataError("interventional regimes need continuous columns: the scores of "
                        "discrete and mixed data do not take experiments yet")
    E, blocks = embed(data)
    sd = E.std(axis=0)
    Z = (E - E.mean(axis=0)) / np.where(sd > 0, sd, 1.0)  # [n, D]
    mask = block_mask(params.allowed, blocks)  # [D, D]
    embedded = dataclasses.replace(params, allowed=mask, required=None)
    result = solve(covariance(Z, device=params.device), "ls", embedded)
    path = [block_norms(W, blocks) for W in result.path]  # each [d, d]
    W = path[-1] if path else block_norms(result.W, blocks)
    if params.allowed is not None:
        path = [P * params.allowed for P in path]
        W = W * params.allowed
    threshold = float(params.threshold) if params.threshold != "auto" else 0.3
    weights = threshold_to_dag(W, threshold, params.required)
    solver = dataclasses.replace(result, W=W, path=path)
    if params.refine == "none":
        return FitResult(solver=solver, weights=weights, threshold=threshold,
                         noise_model="unequal")
    d = data.d
    score = build_score(params.score, data, penalty=params.penalty, gamma=params.gamma)
    weights, scores = refine_graph(
        score, path if policy.multistart(d) else path[-1:], threshold,
        allowed=params.allowed, required=params.required, kicks=policy.kicks(d),
        multistart=policy.multistart(d), rng=np.random.default_rng(params.random_state or 0))
    return FitResult(solver=solver, weights=weights, threshold=threshold,
                     noise_model="unequal", refine_scores=scores)
