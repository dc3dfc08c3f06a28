"""Tests for dagforge.metrics.sortability, worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dagforge.errors import DataError, GraphError
from dagforge.metrics import (
    r2_coefficients,
    r2_sortability,
    varsortability,
)
from helpers import CHAIN, CHAIN_REV, EMPTY3, TRIANGLE, graph

# --------------------------------------------------------------------------- sortability


def data_with_variances(*sds: float) -> np.ndarray:
    """Two rows ``+sd, -sd``: column variances (ddof=0) are ``sd**2``."""
    row = np.array(sds, dtype=float)
    return np.vstack([row, -row])


def test_varsortability_chain_increasing_and_decreasing() -> None:
    X = data_with_variances(1, 2, 3)  # variances 1, 4, 9
    assert varsortability(X, CHAIN) == 1.0
    assert varsortability(X, CHAIN_REV) == 0.0


def test_varsortability_tie_counts_half() -> None:
    X = data_with_variances(1, 1, 2)  # variances 1, 1, 4; pair (0, 1) tied
    assert varsortability(X, CHAIN) == pytest.approx((0.5 + 1 + 1) / 3)


def test_varsortability_counts_each_path_length() -> None:
    # 0 -> 1 -> 2 and 0 -> 2: (0,2) is reachable in 1 and in 2 steps, so 4 path counts.
    # variances 1, 9, 4: (0,1) up, (1,2) down, (0,2) up twice -> 3/4 (not 2/3)
    X = data_with_variances(1, 3, 2)
    assert varsortability(X, TRIANGLE) == 0.75


def test_varsortability_standardised_is_half() -> None:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)) @ np.array([[1, 2, 0], [0, 1, 3], [0, 0, 1]])
    Xs = (X - X.mean(axis=0)) / X.std(axis=0)
    assert varsortability(Xs, CHAIN) == 0.5


def test_varsortability_errors() -> None:
    X = data_with_variances(1, 2, 3)
    assert math.isnan(varsortability(X, EMPTY3))
    with pytest.raises(GraphError, match="cycle"):
        varsortability(X, graph(3, (0, 1), (1, 0)))
    with pytest.raises(DataError, match="columns"):
        varsortability(X[:, :2], CHAIN)
    with pytest.raises(DataError, match="constant"):
        varsortability(np.ones((4, 3)), CHAIN)
    with pytest.raises(DataError, match="tol"):
        varsortability(X, CHAIN, tol=-1.0)


U, V, W_ = np.array([[1, 1, -1, -1], [1, -1, 1, -1], [1, -1, -1, 1]], dtype=float)


def test_r2_coefficients_hand() -> None:
    # columns u, u+v, u+v+w with u, v, w orthogonal, zero mean, squared norm 4:
    # x0 on span{u+v, w}: residual (u-v)/2, |.|^2 = 2 -> R^2 = 1 - 2/4
    # x1 on span{u, v+w}: residual (v-w)/2, |.|^2 = 2 -> R^2 = 1 - 2/8
    # x2 on span{u, v}:   residual w,       |.|^2 = 4 -> R^2 = 1 - 4/12
    X = np.column_stack([U, U + V, U + V + W_])
    np.testing.assert_allclose(r2_coefficients(X), [1 / 2, 3 / 4, 2 / 3])


def test_r2_coefficients_collinear_fallback() -> None:
    X = np.column_stack([U, V, U + V])  # every column is exactly a sum of the others
    np.testing.assert_allclose(r2_coefficients(X), [1.0, 1.0, 1.0], atol=1e-12)


def test_r2_sortability_hand() -> None:
    X = np.column_stack([U, U + V, U + V + W_])  # R^2 = 1/2, 3/4, 2/3
    # (0,1) up, (1,2) down, (0,2) up: 2/3
    assert r2_sortability(X, CHAIN) == pytest.approx(2 / 3)
    assert r2_sortability(X, CHAIN_REV) == pytest.approx(1 / 3)
    # two variables: both R^2 are the squared correlation, a tie
    assert r2_sortability(np.column_stack([U, U + V]), graph(2, (0, 1))) == 0.5


def test_r2_sortability_scale_invariant_var_not() -> None:
    rng = np.random.default_rng(1)
    n = 2000
    x0 = rng.standard_normal(n)
    x1 = 1.5 * x0 + rng.standard_normal(n)
    x2 = -1.0 * x1 + rng.standard_normal(n)
    X = np.column_stack([x0, x1, x2])
    scaled = X * np.array([100.0, 1.0, 0.01])
    assert r2_sortability(scaled, CHAIN) == pytest.approx(r2_sortability(X, CHAIN))
    # population R^2: x1 1 - 0.5/3.25 = 0.85, x2 1 - 1/4.25 = 0.76, x0 1 - 1/3.25 = 0.69
    r2 = r2_coefficients(X)
    assert r2[1] > r2[2] > r2[0]
    assert varsortability(X, CHAIN) == 1.0
    assert varsortability(scaled, CHAIN) == 0.0
