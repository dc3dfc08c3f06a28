"""Tests for dagforge.nonlinear.fit_nonlinear: option checking and the wiring of the
models, inner optimisers and solvers (the models' recovery is tested in tests/models)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagforge.errors import ConfigError, DataError
from dagforge.learn.policy import default_inner
from dagforge.models.registry import get_model
from dagforge.nonlinear import build_model, fit_nonlinear
from dagforge.simulate import linear_sem


@pytest.fixture(scope="module")
def X() -> np.ndarray:
    B = np.array([[0, 1.0, 0], [0, 0, -1.5], [0, 0, 0]])
    return linear_sem(B, 120, np.random.default_rng(0))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"model": "rnn"}, "unknown model"),
    ({"model_options": {"hiden": (5,)}}, "bad option for model"),
    ({"model_options": {"random_state": 3}}, "random_state"),
    ({"solver": "sgd"}, "unknown solver"),
    ({"solver_options": {"lambda_1": 0.1}}, "unknown path_following option"),
    ({"solver_options": {"inner": None}}, "inner optimiser"),
    ({"inner": "sgd"}, "unknown inner optimiser"),
    ({"train_config": {"lr": 0.1}}, "inner='adam' only"),
    ({"inner": "adam", "lbfgs_options": {"max_iter": 3}}, "inner='lbfgs' only"),
    ({"inner": "adam", "train_config": {"learning_rate": 0.1}}, "unknown train option"),
    ({"lbfgs_options": {"maxiter": 3}}, "bad lbfgs option"),
    ({"resume": True}, "needs checkpoint_dir"),
    ({"checkpoint_every": 2}, "needs checkpoint_dir"),
])
def test_bad_options_are_config_errors(X, kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        fit_nonlinear(X, **kwargs)


def test_bad_data(X) -> None:
    Y = X.copy()
    Y[0, 0] = np.nan
    with pytest.raises(DataError, match="finite"):
        fit_nonlinear(Y)


def test_default_inner() -> None:
    assert default_inner(get_model("mlp")) == "lbfgs"
    assert default_inner(get_model("gnn")) == "lbfgs"
    assert default_inner(get_model("gnn"), {"soft": True}) == "adam"
    assert default_inner(get_model("gnn"), {"variational": True}) == "adam"


def test_build_model() -> None:
    m = build_model("mlp", 4, {"hidden": (3,)}, random_state=0)
    assert m.fc1.shape == (4, 3, 4)
    g = build_model("gnn", 4, {"hidden": 5}, dtype=torch.float32)
    assert g.adj.dtype == torch.float32


def test_soft_gnn_with_the_trainer(X) -> None:
    fit = fit_nonlinear(X, model="gnn", model_options={"soft": True},
                        solver_options={"s": (1.0, 1.0), "max_extra_stages": 0},
                        train_config={"max_epochs": 5, "batch_size": 32}, random_state=0)
    model = fit.model
    assert not model.training
    P = model.edge_probabilities().detach()
    assert P.shape == (3, 3) and bool(((P >= 0) & (P <= 1)).all())
    assert model.edge_kl_weight == pytest.approx(1 / 120)
    assert {r["call"] for r in fit.train_history} == {0, 1}
    assert fit.result.W.shape == (3, 3)


def test_augmented_lagrangian_and_float32(X) -> None:
    fit = fit_nonlinear(X, model="mlp", solver="augmented_lagrangian", dtype=torch.float32,
                        solver_options={"max_outer": 2}, lbfgs_options={"max_iter": 20})
    assert fit.model.fc1.dtype == torch.float32
    assert fit.result.n_outer <= 2
    assert fit.train_history == []
