"""The learner of binary, categorical and mixed columns.

``run(data, params) -> FitResult``. All-discrete columns with the refinement on: the
multinomial score's search alone, from its own starts
(:func:`dagforge.learn.policy.typed_search_only`; ``W_`` is then the score's edge
strengths and the stop reason ``no_solve``). Otherwise the registered ``typed`` model
(:class:`dagforge.models.typed.TypedSEM`: one-hot inputs, a likelihood per variable) is
fitted with linear predictors for ``model="linear"`` (logistic and multinomial logistic
regressions, Gaussian ones for continuous children) or with the MLP's hidden layers
for ``model="mlp"``, under the acyclicity constraint; its iterates start the BIC
search, which climbs the registered score ``params.score`` (for all-discrete data the
multinomial BIC or BDeu, for mixed data the Gaussian BIC of the embedding:
:mod:`dagforge.search.scores`). The score decides the graph. ``threshold="auto"`` is
not defined for these likelihoods: the default cut of 0.3 makes the search's starts.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from dagforge.data import Dataset
from dagforge.errors import ConfigError, DataError
from dagforge.graph import threshold_to_dag
from dagforge.learn import policy
from dagforge.learn.result import FitParams, FitResult
from dagforge.nonlinear import fit_nonlinear
from dagforge.search import build_score, refine_graph
from dagforge.solvers.base import SolverResult, StopReason

log = logging.getLogger(__name__)

__all__ = ["TYPED_MODELS", "run"]

#: The models that fit typed data, and the hidden widths of their typed model.
TYPED_MODELS = {"linear": (), "mlp": (10,), "typed": (10,)}

#: The cut of the typed model's group norms that makes the search's threshold starts.
_THRESHOLD = 0.3


def _options(data: Dataset, params: FitParams) -> dict[str, Any]:
    if params.model not in TYPED_MODELS:
        raise ConfigError(f"the {params.model} model fits continuous columns only; for "
                          f"binary and categorical columns choose one of "
                          f"{list(TYPED_MODELS)}")
    user = dict(params.model_options)
    if params.model == "linear" and user:
        raise ConfigError("model_options are for the mlp model; the linear model has none")
    hidden = user.pop("hidden", TYPED_MODELS[params.model])
    user.pop("loss", None)  # each type has its one likelihood
    return {"kinds": [t.value for t in data.types], "cards": data.cardinalities().tolist(),
            "hidden": tuple(hidden), **user}


def _refine_kw(params: FitParams, d: int) -> dict[str, Any]:
    return dict(allowed=params.allowed, required=params.required, kicks=policy.kicks(d),
                multistart=policy.multistart(d),
                rng=np.random.default_rng(params.random_state or 0))


def _search_only(data: Dataset, params: FitParams) -> FitResult:
    """The score's search from its own starts (no continuous solve)."""
    d = data.d
    score = build_score(params.score, data, penalty=params.penalty, gamma=params.gamma)
    none = np.zeros((d, d))
    weights, scores = refine_graph(score, [none], 0.0, **_refine_kw(params, d))
    solver = SolverResult(W=weights, h=0.0, stop_reason=StopReason.NO_SOLVE, history=[],
                          n_outer=0, path=[])
    return FitResult(solver=solver, weights=weights, threshold=float("nan"),
                     noise_model="unequal", refine_scores=scores)


def run(data: Dataset, params: FitParams) -> FitResult:
    """Fit the typed model, cut, refine; see the module docstring."""
    if not data.observational:
        raise DataError("interventional regimes need continuous columns: the scores of "
                        "discrete and mixed data do not take experiments yet")
    options = _options(data, params)
    if policy.typed_search_only(data.discrete, params.refine):
        return _search_only(data, params)
    fitted = fit_nonlinear(
        data.standardized().values, model="typed", model_options=options,
        solver=params.solver, solver_options={"constraint": params.constraint,
                                              "lambda1": params.lambda1,
                                              **params.solver_options},
        inner=params.inner, train_config=params.train_options,
        random_state=params.random_state, device=params.device, allowed=params.allowed,
        required=params.required, checkpoint_dir=params.checkpoint_dir,
        checkpoint_every=params.checkpoint_every, resume=params.resume)
    result = fitted.result
    threshold = float(params.threshold) if params.threshold != "auto" else _THRESHOLD
    weights = threshold_to_dag(result.W, threshold, params.required)
    out = FitResult(solver=result, weights=weights, threshold=threshold, noise_model="unequal",
                    train_history=[{**r, "phase": "solve"} for r in fitted.train_history])
    if params.refine in ("none", "order"):
        return out
    d = data.d
    score = build_score(params.score, data, penalty=params.penalty, gamma=params.gamma)
    path = list(result.path) if policy.multistart(d) else list(result.path)[-1:]
    out.weights, out.refine_scores = refine_graph(score, path or [result.W], threshold,
                                                  **_refine_kw(params, d))
    return out
