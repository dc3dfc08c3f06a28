r"""Every ``"auto"`` rule of a fit, each a named function with its reason.

The learners (:mod:`dagforge.learn.linear`, :mod:`dagforge.learn.nonlinear`) ask
these functions and nothing else when a setting is ``"auto"`` or depends on the
problem; ``docs/tuning.md`` keeps the measurements behind each constant.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from dagforge.errors import ConfigError
from dagforge.models.registry import ModelSpec
from dagforge.ties import improves

if TYPE_CHECKING:
    from dagforge.data import Dataset
    from dagforge.search import GaussianScore, ScoreSpec

__all__ = [
    "NONLINEAR_NLL_SPREAD",
    "REFINE_KICKS",
    "REFINE_MULTISTART_MAX_D",
    "SMALL_PROBLEM",
    "default_inner",
    "first_linear_loss",
    "kicks",
    "multistart",
    "n_threads",
    "order_refit_default",
    "prefers_unequal_noise",
    "refine_mode",
    "residual_spread",
    "resolve_device",
    "score_name",
    "switches_to_likelihood",
    "typed_search_only",
]

#: Problems with at most this many variables run torch and BLAS single-threaded:
#: thread start-up costs more than it saves there (docs/tuning.md#threads).
SMALL_PROBLEM = 200

#: Rounds of iterated local search after the linear refinement's multi-start search,
#: drawn from ``random_state`` (0 when None, so a fit is reproducible).
REFINE_KICKS = 20

#: Above this many variables the refinement climbs from the final solve's thresholded
#: graph alone, without kicks: a climb from a far-off start costs minutes there while
#: the solver's graph is already close (docs/tuning.md#large-graphs).
REFINE_MULTISTART_MAX_D = 200

#: ``loss="auto"`` refits a nonlinear model with one noise variance per variable when
#: the least-squares fit's residual variances spread by more than this (see
#: :func:`residual_spread`): equal-noise data stay well below it, standardised data
#: cross it (docs/tuning.md#nonlinear-loss-switch).
NONLINEAR_NLL_SPREAD = 0.05


def score_name(score: str, data: Dataset, interventions: str = "perfect") -> str:
    """``score`` with ``"auto"`` resolved from the data: the linear-Gaussian BIC of
    continuous observational data (``"gaussian"``); with regimes, GIES's score of
    perfect interventions (``"gaussian-interventional"``) or, with
    ``interventions="soft"``, the soft-intervention score (``"gaussian-soft"``); the
    multinomial BIC of all-discrete data (``"discrete-bic"``); the Gaussian BIC of the
    embedding of mixed data (``"degenerate-gaussian"``). A named score is checked
    against the registry."""
    from dagforge.search import get_score

    if score != "auto":
        get_score(score)
        return score
    if data.discrete:
        return "discrete-bic"
    if not data.continuous:
        return "degenerate-gaussian"
    if data.observational:
        return "gaussian"
    return "gaussian-soft" if interventions == "soft" else "gaussian-interventional"


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` without a GPU is an error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but no CUDA device is available")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"unknown device {device!r}; choose auto, cpu or cuda")
    return torch.device(device)


def n_threads(setting: int | str | None, d: int) -> int | None:
    """Threads for a fit of ``d`` variables: ``"auto"`` is 1 up to :data:`SMALL_PROBLEM`
    variables and the library defaults above; ``None`` leaves the settings alone."""
    if setting == "auto":
        return 1 if d <= SMALL_PROBLEM else None
    return setting  # type: ignore[return-value]


def default_inner(spec: ModelSpec, options: Mapping[str, Any] | None = None) -> str:
    """The inner optimiser unless chosen: the mini-batch trainer (``"adam"``) when a
    sampling option of the model is on (a stochastic objective), else full-batch
    OWL-QN (``"lbfgs"``)."""
    opts = options or {}
    return "adam" if any(opts.get(o) for o in spec.sampling_options) else "lbfgs"


def order_refit_default(spec: ModelSpec, options: Mapping[str, Any] | None = None,
                        inner: str | None = None) -> bool:
    """Whether ``refine="auto"`` runs the order refit: where it was measured, i.e. a
    model with order-refit settings, with the OWL-QN inner optimiser (the mini-batch
    trainer's refit stopped before converging), in a configuration the model says
    suits it."""
    opts = options or {}
    return (spec.order_refit is not None
            and (inner or default_inner(spec, opts)) == "lbfgs"
            and spec.order_refit_applies(opts))


def refine_mode(refine: str, spec: ModelSpec, options: Mapping[str, Any] | None,
                inner: str | None, continuous: bool = True) -> str:
    """``refine`` with ``"auto"`` resolved: BIC hill climbing for a linear model and for
    any model of discrete or mixed columns (``continuous=False``: the typed scores decide
    there), the order refit for a nonlinear one where :func:`order_refit_default` says
    so, else none."""
    if refine != "auto":
        return refine
    if spec.learner == "linear" or not continuous:
        return "hill_climb"
    return "order" if order_refit_default(spec, options, inner) else "none"


def typed_search_only(discrete: bool, refine: str) -> bool:
    """Whether a fit of all-discrete columns skips the typed model's continuous solve and
    lets the multinomial score's search start from its own starts (the empty graph, the
    order search): with refinement on, the solve's iterates only proposed starts, and
    without them the search was as good or better and 3-10x faster on 20 tuning samples
    of five networks (docs/tuning.md#typed-search-only). Mixed data keep the solve (no
    clear difference there)."""
    return discrete and refine == "hill_climb"


def first_linear_loss(loss: str, score: ScoreSpec) -> str:
    """The linear model's first solve: under ``"auto"`` least squares (the equal-variance
    model, which the noise-model choice may then replace) where the score has that
    model, else the likelihood; otherwise the loss asked for."""
    if loss != "auto":
        return loss
    return "ls" if "equal" in score.noise_models else "nll"


def multistart(d: int) -> bool:
    """Refine from several starts (and kick) only up to :data:`REFINE_MULTISTART_MAX_D`."""
    return d <= REFINE_MULTISTART_MAX_D


def kicks(d: int) -> int:
    """Rounds of iterated local search for ``d`` variables (0 for large graphs)."""
    return REFINE_KICKS if multistart(d) else 0


def prefers_unequal_noise(scores: Mapping[str, GaussianScore], A: np.ndarray,
                          penalty: float) -> bool:
    """Whether one noise variance per variable fits the graph ``A`` better than one shared
    variance, by BIC (``scores["unequal"]`` / ``scores["equal"]``, each with its own
    variance parameters: :meth:`GaussianScore.total`); ties keep equal variances."""
    unequal, equal = scores["unequal"], scores["equal"]
    return improves(unequal.total(A, penalty), equal.total(A, penalty), unequal.tol)


def residual_spread(r: np.ndarray) -> float:
    r""":math:`\log(\bar r) - \overline{\log r}` of residual variances ``r``: the log of
    their arithmetic over their geometric mean, 0 when all are equal."""
    r = np.maximum(np.asarray(r, dtype=float), 1e-300)
    return float(np.log(r.mean()) - np.log(r).mean())


def switches_to_likelihood(spread: float | None, linear_noise_model: str | None) -> bool:
    """Whether ``loss="auto"`` refits a nonlinear model with one noise variance per
    variable: the residuals spread past :data:`NONLINEAR_NLL_SPREAD` *and* a linear SEM's
    BIC prefers unequal variances (a misfit spreads the residuals too: a sigmoid MLP on a
    raw linear chain whose variances grow, docs/tuning.md#nonlinear-loss-switch)."""
    return (spread is not None and spread > NONLINEAR_NLL_SPREAD
            and linear_noise_model == "unequal")
