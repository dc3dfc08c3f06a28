"""Every "auto" rule of dagforge.learn.policy, one test each."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagforge.data import Dataset
from dagforge.errors import ConfigError
from dagforge.learn import policy
from dagforge.models.linear import covariance
from dagforge.models.registry import get_model
from dagforge.search import GaussianScore, ScoreSpec, get_score
from helpers import FIVE_NODE, sample_five_node, sample_five_node_interventional


def test_resolve_device() -> None:
    assert policy.resolve_device("cpu") == torch.device("cpu")
    assert policy.resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ConfigError, match="unknown device"):
        policy.resolve_device("tpu")


def test_n_threads_is_one_for_small_problems_only() -> None:
    assert policy.n_threads("auto", policy.SMALL_PROBLEM) == 1
    assert policy.n_threads("auto", policy.SMALL_PROBLEM + 1) is None
    assert policy.n_threads(3, 10) == 3 and policy.n_threads(None, 10) is None


def test_default_inner_follows_the_models_sampling_options() -> None:
    assert policy.default_inner(get_model("mlp")) == "lbfgs"
    assert policy.default_inner(get_model("gnn")) == "lbfgs"
    assert policy.default_inner(get_model("gnn"), {"soft": True}) == "adam"
    assert policy.default_inner(get_model("gnn"), {"variational": True}) == "adam"


def test_order_refit_where_it_was_measured() -> None:
    mlp, gnn, linear = get_model("mlp"), get_model("gnn"), get_model("linear")
    assert policy.order_refit_default(mlp) and policy.order_refit_default(gnn)
    assert not policy.order_refit_default(mlp, inner="adam")  # the trainer's refit
    assert not policy.order_refit_default(gnn, {"soft": True}, "lbfgs")
    assert not policy.order_refit_default(gnn, {"propagation": "linear"})
    assert not policy.order_refit_default(linear)  # no order-refit settings
    assert policy.refine_mode("auto", linear, None, None) == "hill_climb"
    assert policy.refine_mode("auto", mlp, None, None) == "order"
    assert policy.refine_mode("auto", gnn, {"soft": True}, None) == "none"
    assert policy.refine_mode("none", mlp, None, None) == "none"


def test_linear_loss_and_multistart() -> None:
    gaussian = get_score("gaussian")
    assert policy.first_linear_loss("auto", gaussian) == "ls"
    assert policy.first_linear_loss("nll", gaussian) == "nll"
    unequal_only = ScoreSpec("nv", build=lambda data, **kw: None, fits=lambda data: None)
    assert policy.first_linear_loss("auto", unequal_only) == "nll"
    d = policy.REFINE_MULTISTART_MAX_D
    assert policy.multistart(d) and not policy.multistart(d + 1)
    assert policy.kicks(d) == policy.REFINE_KICKS and policy.kicks(d + 1) == 0


def test_prefers_unequal_noise_reads_the_data_not_the_units() -> None:
    X = sample_five_node(2000)  # equal noise variances
    A = FIVE_NODE != 0

    def scores(X: np.ndarray) -> dict[str, GaussianScore]:
        equal = GaussianScore(covariance(X).numpy(), len(X), noise="equal", gamma=1.0)
        return {"equal": equal, "unequal": equal.with_noise("unequal")}

    assert not policy.prefers_unequal_noise(scores(X), A, 1.0)
    Z = (X - X.mean(0)) / X.std(0)  # standardised: the variances differ
    assert policy.prefers_unequal_noise(scores(Z), A, 1.0)


def test_score_auto_follows_the_data() -> None:
    data = Dataset.from_matrix(sample_five_node(50))
    assert policy.score_name("auto", data) == "gaussian"
    assert policy.score_name("gaussian", data) == "gaussian"
    with pytest.raises(ConfigError, match="unknown score 'nope'"):
        policy.score_name("nope", data)
    X, regimes, targets = sample_five_node_interventional(n_obs=20, n_int=10)
    experiments = Dataset.from_matrix(X).with_regimes(regimes, targets)
    assert policy.score_name("auto", experiments) == "gaussian-interventional"
    assert policy.score_name("auto", experiments, "soft") == "gaussian-soft"
    assert policy.score_name("gaussian-soft", data) == "gaussian-soft"


def test_residual_spread_and_the_likelihood_switch() -> None:
    assert policy.residual_spread(np.full(4, 2.5)) == pytest.approx(0.0, abs=1e-15)
    r = np.array([1.0, 0.01, 0.01])
    assert policy.residual_spread(r) == pytest.approx(np.log(r.mean()) - np.log(r).mean())
    cut = policy.NONLINEAR_NLL_SPREAD
    assert policy.switches_to_likelihood(cut * 2, "unequal")
    assert not policy.switches_to_likelihood(cut * 2, "equal")  # a misfit, not the noise
    assert not policy.switches_to_likelihood(cut / 2, "unequal")
    assert not policy.switches_to_likelihood(None, None)


def test_discrete_data_with_refinement_skip_the_typed_solve() -> None:
    assert policy.typed_search_only(True, "hill_climb")
    assert not policy.typed_search_only(True, "none")  # the typed model's graph is the answer
    assert not policy.typed_search_only(False, "hill_climb")  # mixed data keep the solve
