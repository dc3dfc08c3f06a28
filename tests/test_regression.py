"""Tests for dagforge.search.regression: OLS from a covariance, and the edge cost."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.search import edge_penalty, regress


def test_regress_matches_lstsq_and_returns_the_inverse_factor() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4)) @ rng.normal(size=(4, 4))
    Xc = X - X.mean(0)
    S = Xc.T @ Xc / len(X)
    parents = np.array([0, 2, 3])
    beta, r, R = regress(S, parents, 1)
    coef, *_ = np.linalg.lstsq(Xc[:, parents], Xc[:, 1], rcond=None)
    np.testing.assert_allclose(beta, coef, rtol=1e-10)
    assert r == pytest.approx(np.mean((Xc[:, 1] - Xc[:, parents] @ coef) ** 2), rel=1e-10)
    np.testing.assert_allclose(R.T @ R, np.linalg.inv(S[np.ix_(parents, parents)]), rtol=1e-8)


def test_regress_on_no_parents_is_the_variance() -> None:
    S = np.array([[2.0, 0.5], [0.5, 3.0]])
    beta, r, R = regress(S, np.array([], dtype=int), 1)
    assert beta.shape == (0,) and R.shape == (0, 0) and r == 3.0


def test_edge_penalty_is_bic_plus_extension() -> None:
    assert edge_penalty(100, 10) == pytest.approx(0.5 * np.log(100))
    assert edge_penalty(100, 10, penalty=2, gamma=1) == pytest.approx(np.log(100) + np.log(10))
