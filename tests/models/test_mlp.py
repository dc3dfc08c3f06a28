"""Tests for dagforge.models.mlp: the locally connected MLP SEM.

The adjacency follows dagforge's convention (W[i, j] != 0 iff input i enters the
MLP of j, checked by perturbing inputs), self-inputs and forbidden edges are
inert, the square root at zero has a finite gradient, the losses match their
formulas, and the model recovers small nonlinear chains and forks.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from dagforge.constraints import logdet
from dagforge.errors import ConfigError
from dagforge.graph import is_dag, threshold_to_dag
from dagforge.metrics import shd
from dagforge.models.mlp import MLPSEM, gaussian_nll, least_squares, safe_sqrt
from dagforge.nonlinear import fit_nonlinear
from dagforge.simulate import additive_sem

F64 = torch.float64



def test_shapes_and_empty_start() -> None:
    model = MLPSEM(5, (7, 3), random_state=0)
    X = torch.randn(11, 5, dtype=F64)
    assert model(X).shape == (11, 5)
    assert model.fc1.shape == (5, 7, 5)
    assert [tuple(w.shape) for w in model.weights] == [(5, 7, 3), (5, 3, 1)]
    W = model.adjacency()
    assert W.shape == (5, 5) and bool((W == 0).all())  # fc1 starts at zero: empty graph
    assert model.l1_parameters() == [model.fc1]


def test_adjacency_convention_and_dependence() -> None:
    """fc1[j, :, i] != 0 gives W[i, j] > 0, and then (only then) output j moves with input i."""
    d = 4
    model = MLPSEM(d, (5,), random_state=1)
    with torch.no_grad():
        model.fc1[2, :, 0] = torch.linspace(0.5, 1.0, 5)  # edge 0 -> 2
        model.fc1[3, 1, 1] = -2.0  # edge 1 -> 3
    W = model.adjacency().detach()
    expected = torch.zeros(d, d, dtype=F64)
    expected[0, 2] = torch.linspace(0.5, 1.0, 5).norm()
    expected[1, 3] = 2.0
    assert torch.allclose(W, expected)
    X = torch.randn(20, d, dtype=F64)
    base = model(X).detach()
    for i in range(d):
        Xp = X.clone()
        Xp[:, i] += 1.0
        moved = (model(Xp).detach() - base).abs().amax(dim=0) > 1e-12  # [d]
        assert moved.tolist() == [bool(W[i, j] != 0) for j in range(d)]


def test_self_inputs_and_forbidden_edges_are_inert() -> None:
    mask = np.ones((3, 3))
    mask[0, 1] = 0  # 0 -> 1 forbidden
    model = MLPSEM(3, (4,), mask=mask, random_state=0)
    with torch.no_grad():
        model.fc1.fill_(1.0)
    W = model.adjacency()
    assert float(W[0, 1].detach()) == 0.0 and bool((torch.diagonal(W) == 0).all())
    X = torch.randn(30, 3, dtype=F64)
    g = torch.autograd.grad(model.loss(X) + logdet(W, s=20.0), model.fc1)[0]
    assert float(g[1, :, 0].abs().sum()) == 0.0  # fc1[j=1, :, i=0]
    assert float(torch.stack([g[k, :, k] for k in range(3)]).abs().sum()) == 0.0


def test_bad_mask_and_options() -> None:
    with pytest.raises(ConfigError, match="shape"):
        MLPSEM(3, mask=np.ones((2, 2)))
    with pytest.raises(ConfigError, match="0 \\(forbidden\\) or 1"):
        MLPSEM(3, mask=np.full((3, 3), 0.5))
    with pytest.raises(ConfigError, match="activation"):
        MLPSEM(3, activation="swish")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="loss"):
        MLPSEM(3, loss="mse")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="hidden"):
        MLPSEM(3, hidden=())


def test_safe_sqrt_gradient() -> None:
    x = torch.tensor([0.0, 0.25, 4.0], dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(safe_sqrt(x).sum(), x)
    assert g.tolist() == [0.0, 1.0, 0.25]
    assert gradcheck(safe_sqrt, (torch.rand(5, dtype=F64, requires_grad=True) + 0.1,))


def test_h_gradient_is_finite_at_an_empty_graph() -> None:
    model = MLPSEM(4, (3,))
    (g,) = torch.autograd.grad(logdet(model.adjacency()), model.fc1)
    assert bool(torch.isfinite(g).all()) and float(g.abs().sum()) == 0.0


def test_losses() -> None:
    X = torch.tensor([[1.0, 2.0], [3.0, 5.0]], dtype=F64)
    X_hat = torch.tensor([[0.0, 2.0], [3.0, 3.0]], dtype=F64)
    assert float(least_squares(X, X_hat)) == pytest.approx(0.5 * (1 + 4) / 2)
    assert float(gaussian_nll(X, X_hat)) == pytest.approx(0.5 * (math.log(0.5) + math.log(2.0)))
    model = MLPSEM(2, (3,), lambda2=0.1, random_state=0)
    expected = least_squares(X, model(X)) + 0.1 * 0.5 * sum((w**2).sum() for w in model.weights)
    assert float(model.loss(X).detach()) == pytest.approx(float(expected.detach()))


def test_random_state_reproducible() -> None:
    a, b = MLPSEM(3, random_state=5), MLPSEM(3, random_state=5)
    c = MLPSEM(3, random_state=6)
    assert torch.equal(a.weights[0], b.weights[0])
    assert not torch.equal(a.weights[0], c.weights[0])


# --------------------------------------------------------------------------- recovery

CHAIN = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]])  # 0->1->2->3
FORK = np.array([[0, 1, 1, 0, 0], [0, 0, 0, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0],
                 [0, 0, 0, 0, 0]])  # 0->1, 0->2, 2->3, 2->4


@pytest.mark.parametrize(("B", "seed"), [(CHAIN, 2), (FORK, 1)], ids=["chain", "fork"])
def test_recovers_small_nonlinear_graphs(B, seed) -> None:
    X = additive_sem(B, 500, np.random.default_rng(seed), functions=("tanh", "sin", "softplus"))
    fit = fit_nonlinear(X, model="mlp", random_state=0, lbfgs_options={"max_iter": 200})
    W = threshold_to_dag(fit.result.W, 0.3)
    assert is_dag(W)
    assert shd(true=B, pred=W) == 0, np.round(fit.result.W, 2)
    assert fit.result.h < 1e-6


def test_adam_inner_recovers_a_chain() -> None:
    X = additive_sem(CHAIN, 500, np.random.default_rng(2), functions=("tanh", "sin", "softplus"))
    fit = fit_nonlinear(X, model="mlp", inner="adam",
                        train_config={"lr": 0.02, "max_epochs": 500, "patience": 30},
                        random_state=0)
    W = threshold_to_dag(fit.result.W, 0.3)
    assert shd(true=CHAIN, pred=W) == 0, np.round(fit.result.W, 2)
    assert fit.train_history and all(math.isfinite(r["val_objective"])
                                     for r in fit.train_history)
