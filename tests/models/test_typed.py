"""The typed model (dagforge.models.typed): per-variable likelihoods over one-hot inputs,
checked against their closed forms; group-norm adjacency; gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagforge.models.typed import TypedSEM

KINDS = ["continuous", "binary", "categorical"]
CARDS = [0, 2, 3]


def _rows(n: int = 40, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    return torch.as_tensor(np.column_stack([rng.normal(size=n), rng.integers(0, 2, n),
                                            rng.integers(0, 3, n)]), dtype=torch.float64)


def _random_model(hidden=()) -> TypedSEM:
    m = TypedSEM(3, kinds=KINDS, cards=CARDS, hidden=hidden, random_state=1)
    with torch.no_grad():
        m.fc1.normal_(generator=torch.Generator().manual_seed(2))
        m.b1.normal_(generator=torch.Generator().manual_seed(3))
    return m


def test_the_loss_is_each_types_negative_log_likelihood() -> None:
    m, X = _random_model(), _rows()
    out = m(X).detach()
    mse = ((X[:, 0] - out[:, 0, 0]) ** 2).mean()
    p = torch.sigmoid(out[:, 1, 0])
    bern = -(X[:, 1] * torch.log(p) + (1 - X[:, 1]) * torch.log(1 - p)).mean()
    logp = torch.log_softmax(out[:, 2, :3], dim=1)
    cat = -logp[torch.arange(len(X)), X[:, 2].long()].mean()
    assert float(m.loss(X).detach()) == pytest.approx(float(0.5 * torch.log(mse) + bern + cat))


def test_inputs_are_one_hot_blocks_and_the_adjacency_their_group_norm() -> None:
    m, X = _random_model(), _rows()
    E = m.embed(X)
    assert E.shape == (40, 1 + 1 + 2)  # categorical 3 levels -> 2 indicators
    assert torch.equal(E[:, 2], (X[:, 2] == 1).double()) and torch.equal(
        E[:, 3], (X[:, 2] == 2).double())
    W = m.adjacency().detach()
    fc1 = m.first_layer().detach()
    assert float(W[2, 0]) == pytest.approx(float(fc1[0, :, 2:4].norm()))  # block of x2
    assert float(W[0, 2]) == pytest.approx(float(fc1[2, :, 0:1].norm()))
    assert float(W[0, 0]) == 0.0 and float(W[2, 2]) == 0.0  # no self-inputs


def test_unused_logits_are_masked_and_predict_gives_means() -> None:
    m, X = _random_model(hidden=(4,)), _rows()
    out = m(X)
    assert torch.isinf(out[:, 0, 1:]).all() and torch.isfinite(out[:, 2, :3]).all()
    pred = m.predict(X)
    assert ((pred[:, 1] > 0) & (pred[:, 1] < 1)).all() and (pred[:, 2] <= 2).all()


class _Loss(torch.nn.Module):
    """A module whose forward is ``model.loss``, for ``functional_call``."""

    def __init__(self, model: TypedSEM) -> None:
        super().__init__()
        self.model = model

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.model.loss(X)


def test_gradients() -> None:
    from torch.func import functional_call

    m, X = _random_model(hidden=(3,)), _rows(12)
    wrapped = _Loss(m)
    fc1 = m.fc1.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(
        lambda w: functional_call(wrapped, {"model.fc1": w}, (X,)), (fc1,))


def test_required_edges_are_exempt_from_the_l1() -> None:
    m = _random_model()
    required = torch.zeros(3, 3, dtype=torch.bool)
    required[2, 0] = True  # x2 -> x0
    w = m.edge_l1_weights(required)[0]
    assert (w[0, :, 2:4] == 0).all() and (w[0, :, :2] == 1).all() and (w[1] == 1).all()
