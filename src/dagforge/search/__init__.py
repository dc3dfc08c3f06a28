"""Score-based search over linear-Gaussian DAGs, from the covariance.

* :mod:`~dagforge.search.regression`: OLS of a variable on others, the edge cost;
* :mod:`~dagforge.search.score`: the BIC and the parent-set scorer every search asks;
* :mod:`~dagforge.search.hill_climb`: greedy edge moves with a tabu phase;
* :mod:`~dagforge.search.order`: BOSS-style search over causal orders, the
  equal-variance order;
* :mod:`~dagforge.search.multistart`: the refinement of a solver's output from several
  starts with kicks, and the choice of the noise model.

Floating-point decisions go through :mod:`dagforge.ties`, so inputs that differ by
rounding take the same path.
"""

from dagforge.search.hill_climb import hill_climb
from dagforge.search.multistart import choose_noise_model, refine
from dagforge.search.order import equal_variance_order, order_dag, order_search
from dagforge.search.regression import R_FLOOR, edge_penalty, ols_weights, regress
from dagforge.search.score import GaussianScore, NoiseModel, bic_score, total_bic

__all__ = [
    "R_FLOOR",
    "GaussianScore",
    "NoiseModel",
    "bic_score",
    "choose_noise_model",
    "edge_penalty",
    "equal_variance_order",
    "hill_climb",
    "ols_weights",
    "order_dag",
    "order_search",
    "refine",
    "regress",
    "total_bic",
]
