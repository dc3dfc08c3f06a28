"""Tests for dagforge.models.gnn: the DAG-GNN style models.

Shapes; the propagation conventions (A[i, j] is i -> j: a child's prediction depends
on exactly its parents; in the linear autoencoder the encoder subtracts the parents'
contribution and the decoder's solve adds it back); gradients (gradcheck in
float64); the initialisation; the soft adjacency (probabilities in [0, 1],
Gumbel-sigmoid samples reproducible from the model's generator in training mode,
deterministic in evaluation mode); the ELBO terms; and recovery of small graphs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.autograd import gradcheck

from dagforge.errors import ConfigError
from dagforge.graph import is_dag, threshold_to_dag
from dagforge.metrics import auroc, shd, shd_cpdag
from dagforge.models.gnn import DAGGNN
from dagforge.nonlinear import fit_nonlinear
from dagforge.simulate import linear_sem

F64 = torch.float64

# fork 0 -> {1, 2}, chain 2 -> 3 -> 4
CHAIN_FORK = np.zeros((5, 5))
CHAIN_FORK[0, 1] = CHAIN_FORK[0, 2] = CHAIN_FORK[2, 3] = CHAIN_FORK[3, 4] = 1


def chain_fork_data(n: int, rng: np.random.Generator) -> np.ndarray:
    """Nonlinear SEM on :data:`CHAIN_FORK` with equal noise variances (sd 0.5)."""
    e = 0.5 * rng.standard_normal((n, 5))  # [n, 5]
    x0 = rng.standard_normal(n)
    x1 = 2.0 * np.tanh(1.5 * x0) + e[:, 1]
    x2 = 1.5 * np.sin(1.5 * x0) + e[:, 2]
    x3 = 1.5 * np.sin(1.5 * x2) + e[:, 3]
    x4 = 2.0 * np.tanh(1.5 * x3) + e[:, 4]
    return np.column_stack([x0, x1, x2, x3, x4])


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# --------------------------------------------------------------------------- structure


def test_shapes() -> None:
    X = torch.randn(7, 5, dtype=F64)
    model = DAGGNN(5, hidden=8, latent=3, random_state=0)
    out = model(X)
    assert model.propagation == "message"
    assert out.x_hat.shape == (7, 5)
    assert out.z_mean is None and out.z_logvar is None
    assert out.adjacency.shape == (5, 5)
    assert model.messages(X).shape == (7, 5, 3)
    assert model.adjacency().shape == (5, 5)
    assert model.loss(X).shape == ()
    assert model.l1_parameters() == [model.adj]
    lin = DAGGNN(5, propagation="linear", hidden=8, latent=3, random_state=0)
    out = lin(X)
    assert out.x_hat.shape == (7, 5) and out.z_mean.shape == (7, 5, 3)
    assert lin.loss(X).shape == ()
    vae = DAGGNN(5, propagation="linear", hidden=8, latent=3, variational=True)
    assert vae(X).z_logvar.shape == (5, 3)


def test_variational_messages() -> None:
    """variational=True: sampled messages in training mode (seeded), their means in
    evaluation mode, and the latent KL in the loss."""
    X = torch.randn(8, 4, dtype=F64)
    a, b = DAGGNN(4, latent=2, variational=True, random_state=5), DAGGNN(
        4, latent=2, variational=True, random_state=5)
    out = a.eval()(X)
    assert out.z_mean.shape == (8, 4, 2) and out.z_logvar.shape == (4, 2)
    assert torch.equal(a(X).x_hat, out.x_hat)
    a.train()
    b.train()
    s1, s2 = a(X).x_hat, a(X).x_hat
    assert torch.equal(s1, b(X).x_hat) and not torch.equal(s1, s2)
    # standardised means: the KL's mean term is 1/2 per variable and component
    assert float(a.kl_latent(out).detach()) == pytest.approx(0.5 * 4 * 2, rel=1e-4)
    plain = DAGGNN(4, latent=2, random_state=5).eval()
    assert float(a.eval().loss(X).detach()) == pytest.approx(
        float(plain.loss(X).detach()) + 4.0, rel=1e-4)


def test_message_passing_follows_the_edges() -> None:
    """x_hat[:, j] depends on column i exactly when A[i, j] != 0, and equals
    g_j(sum_i A[i, j] H_i)."""
    model = DAGGNN(4, random_state=0).eval()
    A = torch.zeros(4, 4, dtype=F64)
    A[0, 1], A[1, 2], A[3, 2] = 0.8, -0.5, 0.3
    with torch.no_grad():
        model.adj.copy_(A)
    X = torch.randn(9, 4, dtype=F64)
    J = torch.autograd.functional.jacobian(lambda x: model(x).x_hat, X)  # [n, d, n, d]
    depends = J.abs().sum(dim=(0, 2)).T  # [d(input i), d(output j)]
    assert torch.equal(depends > 1e-12, A != 0)
    H = model.messages(X).detach()  # [n, d, m]
    S1 = 0.8 * H[:, 0]  # [n, m]
    hid = torch.sigmoid(S1 @ model.dec_w1[1] + model.dec_b1[1])  # [n, h]
    expected = hid @ model.dec_w2[1] + model.dec_b2[1]  # [n]
    assert torch.allclose(model(X).x_hat[:, 1], expected)


def test_message_model_ignores_the_scale_of_the_inputs() -> None:
    """The encoders see standardised columns: rescaling and shifting X (positive factors)
    leaves the predictions unchanged."""
    model = DAGGNN(3, random_state=2).eval()
    X = torch.randn(20, 3, dtype=F64)
    Y = X * torch.tensor([3.0, 0.1, 7.0], dtype=F64) + torch.tensor([1.0, -4.0, 0.5],
                                                                    dtype=F64)
    assert torch.allclose(model(X).x_hat, model(Y).x_hat, atol=1e-8)


def test_linear_propagation_convention() -> None:
    """With A[0, 1] = w (edge 0 -> 1): Z_1 = H_1 - w H_0, Z_0 = H_0, and the decoder's
    solve of (I - A^T) Y = Z gives Y = H back."""
    model = DAGGNN(3, propagation="linear", hidden=4, latent=2, random_state=0,
                   standardize_latent=False)
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
    # the decoder sees (I - A^T)^{-1} Z = H (deterministic mode): the graph acts
    # through the latent KL only
    x_hat = model.dec2(torch.relu(model.dec1(H))).squeeze(-1)
    assert torch.allclose(out.x_hat, x_hat)


class _Loss(torch.nn.Module):
    """``model.loss`` as a module's forward, so ``functional_call`` can swap parameters."""

    def __init__(self, model: DAGGNN) -> None:
        super().__init__()
        self.model = model

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.model.loss(X)


@pytest.mark.parametrize("soft", [False, True])
def test_gradcheck_of_the_message_loss(soft: bool) -> None:
    """The loss is differentiable in the edge parameters, the encoders and the decoders
    (float64 gradcheck; evaluation mode, so the soft adjacency is deterministic)."""
    model = DAGGNN(3, hidden=4, latent=2, soft=soft, edge_kl_weight=0.1,
                   random_state=1).eval()
    wrapper = _Loss(model)
    X = torch.randn(6, 3, dtype=F64)
    edge = ("edge_logits", "edge_weight") if soft else ("adj",)
    names = (*edge, "enc_w1", "enc_w2", "dec_w1", "dec_w2")

    def loss(*params: torch.Tensor) -> torch.Tensor:
        values = {f"model.{k}": p for k, p in zip(names, params, strict=True)}
        return torch.func.functional_call(wrapper, values, (X,), strict=False)

    inputs = tuple(getattr(model, k).detach().clone().requires_grad_(True) for k in names)
    assert gradcheck(loss, inputs)


def test_gradcheck_of_the_linear_elbo() -> None:
    """The negative ELBO is differentiable in A and in the MLP weights (float64 gradcheck)."""
    model = DAGGNN(3, propagation="linear", hidden=4, activation="tanh",
                   random_state=1).eval()
    X = torch.randn(5, 3, dtype=F64)

    def loss(adj: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        out = torch.func.functional_call(model, {"adj": adj, "enc1.weight": w}, (X,),
                                         strict=False)
        return out.x_hat.pow(2).sum() + model.kl_latent(out)

    A0 = (0.1 * torch.randn(3, 3, dtype=F64)).requires_grad_(True)
    w0 = model.enc1.weight.detach().clone().requires_grad_(True)
    assert gradcheck(loss, (A0, w0))


def test_initial_graph() -> None:
    """Message model: small random weights on the allowed edges, inside the log-det domain
    (rho(A o A) < 1); the linear autoencoder starts at the empty graph, as DAG-GNN."""
    mask = np.ones((6, 6))
    mask[0, 3] = 0
    A = DAGGNN(6, mask=mask, random_state=0).adjacency().detach()
    assert float(A[0, 3]) == 0.0 and bool((torch.diagonal(A) == 0).all())
    off = A[torch.as_tensor(mask * (1 - np.eye(6)), dtype=torch.bool)]
    assert bool((off != 0).all()) and float(off.abs().max()) <= 0.6 / math.sqrt(6)
    assert float(torch.linalg.eigvals(A * A).abs().max()) < 1.0
    assert float(DAGGNN(6, init_scale=0.0).adj.detach().abs().sum()) == 0.0
    assert float(DAGGNN(6, propagation="linear").adj.detach().abs().sum()) == 0.0
    assert torch.equal(DAGGNN(6, random_state=4).adj, DAGGNN(6, random_state=4).adj)


# --------------------------------------------------------------------------- soft adjacency


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


def test_edge_probabilities_are_probabilities_of_active_edges() -> None:
    model = DAGGNN(4, soft=True, random_state=0)
    with torch.no_grad():
        model.edge_logits.normal_(std=5.0, generator=torch.Generator().manual_seed(0))
        model.edge_weight[1, 2] = 0.0  # an edge the L1 penalty has switched off
    P = model.edge_probabilities().detach()
    assert bool(((P >= 0) & (P <= 1)).all())
    assert float(P[1, 2]) == 0.0 and float(P.diagonal().abs().sum()) == 0.0
    assert torch.allclose(P[0, 1], torch.sigmoid(model.edge_logits[0, 1]).detach())
    hard = DAGGNN(3, init_scale=0.0)
    assert float(hard.edge_probabilities().sum()) == 0.0


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
    X = torch.randn(5, 3, dtype=F64)
    expected = float(m2.eval().loss(X).detach()) + 0.25 * 6 * per_edge
    m2.edge_kl_weight = 0.25
    assert float(m2.loss(X).detach()) == pytest.approx(expected)
    vae = DAGGNN(2, propagation="linear", variational=True)
    with torch.no_grad():
        vae.z_logvar.fill_(math.log(4.0))
    out = vae.eval()(torch.zeros(3, 2, dtype=F64))
    expected = 0.5 * float((out.z_mean.detach() ** 2).sum() / 3) + (4.0 - math.log(4.0) - 1.0)
    assert float(vae.kl_latent(out).detach()) == pytest.approx(expected)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"temperature": 0.0}, "temperature"),
    ({"soft": True, "init_prob": 1.0}, "init_prob"),
    ({"activation": "gelu"}, "activation"),
    ({"propagation": "conv"}, "propagation"),
    ({"propagation": "linear", "loss": "nll"}, "loss"),
    ({"loss": "l1"}, "loss"),
    ({"init_scale": -0.1}, "init_scale"),
    ({"latent": 0}, "latent"),
])
def test_bad_options(kwargs, match) -> None:
    with pytest.raises(ConfigError, match=match):
        DAGGNN(3, **kwargs)


# --------------------------------------------------------------------------- recovery


def test_recovers_a_nonlinear_chain_and_fork() -> None:
    """Message passing with L-BFGS on 400 rows of a nonlinear SEM: the exact DAG."""
    X = chain_fork_data(400, np.random.default_rng(0))
    fit = fit_nonlinear(X, model="gnn", random_state=0, lbfgs_options={"max_iter": 100})
    assert fit.result.h < 1e-8
    W = threshold_to_dag(fit.result.W, 0.3)
    assert shd(true=CHAIN_FORK, pred=W) == 0, np.round(fit.result.W, 2)


def test_soft_model_with_the_trainer_ranks_the_true_edges_first() -> None:
    """Soft adjacency (Gumbel-sigmoid samples, mini-batch Adam): probabilities in
    [0, 1], and the weighted soft adjacency P * Omega ranks the true edges first."""
    X = chain_fork_data(400, np.random.default_rng(0))
    fit = fit_nonlinear(X, model="gnn", model_options={"soft": True}, random_state=0,
                        train_config={"lr": 0.02, "max_epochs": 100, "batch_size": 100,
                                      "progress": False})
    P = fit.model.edge_probabilities().detach().numpy()
    assert P.shape == (5, 5) and bool(((P >= 0) & (P <= 1)).all())
    assert fit.result.h < 1e-6
    assert auroc(true=CHAIN_FORK, scores=np.abs(fit.result.W)) >= 0.9
    assert is_dag(threshold_to_dag(fit.result.W, 0.1))


def test_linear_autoencoder_recovers_the_equivalence_class_of_a_fork() -> None:
    """Linear-Gaussian data (the DAG-GNN model family), fork 0 -> {1, 2} and 2 -> 3: the
    Markov equivalence class is recovered. (Orientation beyond it, e.g. a collider's,
    is not reliable with this model: its score is least squares on learned, scaled
    features, which carries no variance hint.)"""
    B = np.array([[0, 1.5, -1.2, 0], [0, 0, 0, 0], [0, 0, 0, 0.9], [0, 0, 0, 0]])
    X = linear_sem(B, 500, np.random.default_rng(0))
    fit = fit_nonlinear(X, model="gnn", model_options={"propagation": "linear", "hidden": 8},
                        random_state=0, lbfgs_options={"max_iter": 200})
    W = threshold_to_dag(fit.result.W, 0.3)
    assert is_dag(W)
    assert shd_cpdag(true=B, pred=W) == 0, np.round(fit.result.W, 2)
