"""Tests for the OWL-QN optimiser."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.linear_model import Lasso

from dagforge.solvers.owlqn import OWLQNConfig, owlqn, pseudo_gradient


def test_pseudo_gradient_cases() -> None:
    x = torch.tensor([1.0, -1.0, 0.0, 0.0, 0.0])
    g = torch.tensor([0.5, 0.5, -2.0, 2.0, 0.3])
    pg = pseudo_gradient(x, g, torch.tensor(1.0).expand(5))
    torch.testing.assert_close(pg, torch.tensor([1.5, -0.5, -1.0, 1.0, 0.0]))


def test_owlqn_solves_the_lasso() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    beta = np.array([1.0, -2.0, 0.5, 0, 0, 0, 0, 0])
    y = X @ beta + 0.1 * rng.normal(size=200)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def fun(w: torch.Tensor) -> tuple[float, torch.Tensor]:
        r = yt - Xt @ w
        return float(0.5 * r @ r / 200), -(Xt.T @ r) / 200

    res = owlqn(fun, torch.zeros(8, dtype=torch.float64), 0.05, OWLQNConfig(tol_change=1e-14))
    ref = Lasso(alpha=0.05, fit_intercept=False, tol=1e-12).fit(X, y).coef_
    np.testing.assert_allclose(res.x.numpy(), ref, atol=1e-6)
    assert np.all(res.x.numpy()[3:] == 0)  # exact zeros
    assert res.converged


def test_owlqn_stays_inside_domain() -> None:
    # minimise (x - 3)^2 on the domain x < 1 with a log barrier; +inf outside
    def fun(x: torch.Tensor) -> tuple[float, torch.Tensor]:
        v = float(x[0])
        if v >= 1:
            return math.inf, torch.zeros_like(x)
        return (v - 3) ** 2 - 0.1 * math.log(1 - v), torch.tensor([2 * (v - 3) + 0.1 / (1 - v)],
                                                                  dtype=x.dtype)

    res = owlqn(fun, torch.zeros(1, dtype=torch.float64), 0.0)
    assert float(res.x[0]) < 1
    # stationary point of the barrier problem: 2(x-3)(1-x) + 0.1 = 0
    x = float(res.x[0])
    assert abs(2 * (x - 3) * (1 - x) + 0.1) < 1e-5
