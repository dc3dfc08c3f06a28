"""Tests for dagforge.models.gnn: the DAG-GNN style model.

Shapes; the propagation convention (A[i, j] is i -> j: the encoder subtracts the
parents' contribution from a child, the decoder's solve adds it back); gradients
(gradcheck in float64); the soft adjacency (probabilities, Gumbel-sigmoid samples
reproducible from the model's generator in training mode, deterministic in
evaluation mode); the ELBO terms; and recovery of a small graph.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from dagforge.errors import ConfigError
from dagforge.graph import is_dag, threshold_to_dag
from dagforge.metrics import shd_cpdag
from dagforge.models.gnn import DAGGNN
from dagforge.nonlinear import fit_nonlinear
from dagforge.simulate import linear_sem

F64 = torch.float64


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_shapes() -> None:
    model = DAGGNN(5, hidden=8, latent=3, random_state=0)
    X = torch.randn(7, 5, dtype=F64)
    out = model(X)
    assert out.x_hat.shape == (7, 5)
    assert out.z_mean.shape == (7, 5, 3)
    assert out.z_logvar is None
    assert out.adjacency.shape == (5, 5)
    assert model.adjacency().shape == (5, 5)
    assert model.loss(X).shape == ()
    assert model.l1_parameters() == [model.adj]
    vae = DAGGNN(5, hidden=8, latent=3, variational=True)
    assert vae(X).z_logvar.shape == (5, 3)


def test_propagation_convention() -> None:
    """With A[0, 1] = w (edge 0 -> 1): Z_1 = H_1 - w H_0, Z_0 = H_0, and the decoder's
    solve of (I - A^T) Y = Z gives Y = H back."""
    model = DAGGNN(3, hidden=4, latent=2, random_state=0, standardize_latent=False)
    with torch.no_grad():
        model.adj[0, 1] = 0.7
        model.shift.copy_(torch.tensor([0.3, -0.2], dtype=F64))
    X = torch.randn(6, 3, dtype=F64)
    H = model.enc2(torch.relu(model.enc1(X.unsqueeze(-1)))).detach()  # [n, d, latent]
    out = model(X)
    Z = out.z_mean.detach()
    assert torch.allclose(Z[:, 0], H[:, 0])
    assert torch.allclose(Z[:, 2], H[:, 2])
    assert torch.allclose(Z[:, 1], H[:, 1] - 0.7 * (H[:, 0] + model.shift.detach()))
    # the decoder sees (I - A^T)^{-1} Z = H (deterministic mode): reconstruction of an
    # autoencoder, the graph acts through the latent KL
    x_hat = model.dec2(torch.relu(model.dec1(H))).squeeze(-1)
    assert torch.allclose(out.x_hat, x_hat)


def test_gradcheck_of_the_loss() -> None:
    """The negative ELBO is differentiable in A and in the MLP weights (float64 gradcheck)."""
    model = DAGGNN(3, hidden=4, activation="tanh", random_state=1).eval()
    X = torch.randn(5, 3, dtype=F64)

    def loss(adj: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(model, {"adj": adj, "enc1.weight": w}, (X,),
                                          strict=False).x_hat.pow(2).sum() + model.kl_latent(
            torch.func.functional_call(model, {"adj": adj, "enc1.weight": w}, (X,)))

    A0 = (0.1 * torch.randn(3, 3, dtype=F64)).requires_grad_(True)
    w0 = model.enc1.weight.detach().clone().requires_grad_(True)
    assert gradcheck(loss, (A0, w0))


def test_zero_diagonal_and_mask() -> None:
    mask = np.ones((3, 3))
    mask[2, 0] = 0
    model = DAGGNN(3, mask=mask, soft=True)
    with torch.no_grad():
        model.edge_weight.fill_(1.0)
    W = model.adjacency().detach()
    P = model.edge_probabilities().detach()
    assert bool((torch.diagonal(W) == 0).all()) and float(W[2, 0]) == 0.0
    assert float(P[2, 0]) == 0.0 and torch.allclose(P[0, 1], torch.tensor(0.5, dtype=F64))


def test_soft_sampling_is_seeded_and_evaluation_is_deterministic() -> None:
    X = torch.randn(4, 3, dtype=F64)

    def model_with_weights(seed: int) -> DAGGNN:
        m = DAGGNN(3, soft=True, random_state=seed)
        with torch.no_grad():
            m.edge_weight.fill_(0.5)
            m.edge_logits.normal_(generator=torch.Generator().manual_seed(9))
        return m

    a, b = model_with_weights(3), model_with_weights(3)
    a.train()
    b.train()
    sa1, sa2 = a(X).adjacency, a(X).adjacency
    sb1 = b(X).adjacency
    assert torch.equal(sa1, sb1)  # same seed, same Gumbel-sigmoid sample
    assert not torch.equal(sa1, sa2)  # a new sample each pass
    assert bool(((sa1 >= 0) & (sa1 <= 0.5)).all())
    # h sees the deterministic P * Omega in either mode
    assert torch.equal(a.adjacency(), b.adjacency())
    a.eval()
    e1, e2 = a(X), a(X)
    assert torch.equal(e1.x_hat, e2.x_hat)
    assert torch.allclose(e1.adjacency, a.edge_probabilities() * 0.5)


def test_edge_kl_and_latent_kl() -> None:
    m = DAGGNN(3, soft=True, init_prob=0.1, edge_prior=0.1)
    assert float(m.kl_edges().detach()) == pytest.approx(0.0, abs=1e-12)
    m2 = DAGGNN(3, soft=True, init_prob=0.5, edge_prior=0.1)
    per_edge = 0.5 * math.log(0.5 / 0.1) + 0.5 * math.log(0.5 / 0.9)
    assert float(m2.kl_edges().detach()) == pytest.approx(6 * per_edge)
    vae = DAGGNN(2, variational=True)
    with torch.no_grad():
        vae.z_logvar.fill_(math.log(4.0))
    out = vae.eval()(torch.zeros(3, 2, dtype=F64))
    expected = 0.5 * float((out.z_mean.detach() ** 2).sum() / 3) + (4.0 - math.log(4.0) - 1.0)
    assert float(vae.kl_latent(out).detach()) == pytest.approx(expected)


def test_bad_options() -> None:
    with pytest.raises(ConfigError, match="temperature"):
        DAGGNN(3, temperature=0.0)
    with pytest.raises(ConfigError, match="init_prob"):
        DAGGNN(3, soft=True, init_prob=1.0)
    with pytest.raises(ConfigError, match="activation"):
        DAGGNN(3, activation="gelu")  # type: ignore[arg-type]


def test_recovers_the_equivalence_class_of_a_fork() -> None:
    """Linear-Gaussian data (the DAG-GNN model family), fork 0 -> {1, 2} and 2 -> 3: the
    Markov equivalence class is recovered. (Orientation beyond it, e.g. a collider's,
    is not reliable with this model: its score is least squares on learned, scaled
    features, which carries no variance hint.)"""
    B = np.array([[0, 1.5, -1.2, 0], [0, 0, 0, 0], [0, 0, 0, 0.9], [0, 0, 0, 0]])
    X = linear_sem(B, 500, np.random.default_rng(0))
    fit = fit_nonlinear(X, model="gnn", model_options={"hidden": 8}, random_state=0,
                        lbfgs_options={"max_iter": 200})
    W = threshold_to_dag(fit.result.W, 0.3)
    assert is_dag(W)
    assert shd_cpdag(true=B, pred=W) == 0, np.round(fit.result.W, 2)
