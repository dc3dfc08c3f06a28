"""Tests for the linear SEM and its covariance-based losses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dagforge.errors import ConfigError
from dagforge.models.linear import (
    LinearSEM,
    covariance,
    gaussian_nll,
    get_loss,
    least_squares,
    residual_variances,
)


@pytest.fixture
def data() -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.normal(size=(200, 4)) @ rng.normal(size=(4, 4)))
    W = torch.tensor(rng.normal(scale=0.3, size=(4, 4))) * (1 - torch.eye(4, dtype=torch.float64))
    return X, W


def test_covariance_is_centred_second_moment(data) -> None:
    X, _ = data
    Xc = X - X.mean(0)
    torch.testing.assert_close(covariance(X), Xc.T @ Xc / X.shape[0])


def test_least_squares_matches_residuals(data) -> None:
    X, W = data
    Xc = X - X.mean(0)
    direct = 0.5 / X.shape[0] * torch.sum((Xc - Xc @ W) ** 2)
    torch.testing.assert_close(least_squares(W, covariance(X)), direct)


def test_nll_matches_direct_formula(data) -> None:
    X, W = data
    Xc = X - X.mean(0)
    r = torch.mean((Xc - Xc @ W) ** 2, dim=0)
    direct = 0.5 * torch.log(r).sum() - torch.linalg.slogdet(torch.eye(4, dtype=W.dtype) - W)[1]
    torch.testing.assert_close(gaussian_nll(W, covariance(X)), direct)
    torch.testing.assert_close(residual_variances(W, covariance(X)), r)


@pytest.mark.parametrize("loss", [least_squares, gaussian_nll])
def test_losses_gradcheck(data, loss) -> None:
    X, W = data
    S = covariance(X)
    Wp = W.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda w: loss(w, S), (Wp,))


def test_linear_sem_zero_diagonal_and_mask() -> None:
    mask = np.ones((3, 3))
    mask[0, 1] = 0
    m = LinearSEM(3, mask=mask)
    with torch.no_grad():
        m.weight.fill_(1.0)
    A = m.adjacency()
    assert torch.all(torch.diag(A) == 0) and A[0, 1] == 0 and A[1, 0] == 1
    X = torch.ones(5, 3, dtype=torch.float64)
    torch.testing.assert_close(m(X), X @ A)


def test_unknown_loss() -> None:
    with pytest.raises(ConfigError, match="unknown linear loss"):
        get_loss("huber")
