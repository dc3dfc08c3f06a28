"""Score-based search over DAGs: local search on a registered parent-set score.

* :mod:`~dagforge.search.scores`: the score registry; what a score answers
  (:class:`~dagforge.search.scores.base.ParentScore`); the linear-Gaussian BIC;
* :mod:`~dagforge.search.regression`: OLS of a variable on others, the edge cost;
* :mod:`~dagforge.search.hill_climb`: greedy edge moves with a tabu phase;
* :mod:`~dagforge.search.order`: BOSS-style search over causal orders, the
  equal-variance order;
* :mod:`~dagforge.search.multistart`: the refinement of a solver's output from several
  starts with kicks, and the choice of the noise model.

Floating-point decisions go through :mod:`dagforge.ties`, so inputs that differ by
rounding take the same path.
"""

from dagforge.search.hill_climb import climb, hill_climb
from dagforge.search.multistart import choose_noise_model, refine, refine_graph
from dagforge.search.order import equal_variance_order, order_dag, order_search, search_orders
from dagforge.search.regression import R_FLOOR, edge_penalty, ols_weights, regress
from dagforge.search.scores import (
    SCORES,
    ScoreSpec,
    build_score,
    get_score,
    register_score,
    score_names,
)
from dagforge.search.scores.base import FitTermScore, ParentScore
from dagforge.search.scores.gaussian import (
    GaussianScore,
    NoiseModel,
    bic_score,
    sample_covariance,
    total_bic,
)

__all__ = [
    "R_FLOOR",
    "SCORES",
    "FitTermScore",
    "GaussianScore",
    "NoiseModel",
    "ParentScore",
    "ScoreSpec",
    "bic_score",
    "build_score",
    "choose_noise_model",
    "climb",
    "edge_penalty",
    "equal_variance_order",
    "get_score",
    "hill_climb",
    "ols_weights",
    "order_dag",
    "order_search",
    "refine",
    "refine_graph",
    "register_score",
    "regress",
    "sample_covariance",
    "score_names",
    "search_orders",
    "total_bic",
]
