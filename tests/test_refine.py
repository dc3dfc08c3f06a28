"""Tests for dagforge.search: BIC scores, hill climbing over DAGs and the multi-start refinement."""

from __future__ import annotations

import numpy as np
import pytest

from dagforge.errors import GraphError
from dagforge.graph import is_dag
from dagforge.search import (
    bic_score,
    edge_penalty,
    hill_climb,
    ols_weights,
    order_dag,
    refine,
)
from dagforge.search.hill_climb import _smallest


def chain_data(n: int = 2000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x0 -> x1 -> x2 with equal noise variances."""
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=n)
    x1 = 1.5 * x0 + rng.normal(size=n)
    x2 = -1.0 * x1 + rng.normal(size=n)
    X = np.column_stack([x0, x1, x2])
    Xc = X - X.mean(0)
    return Xc.T @ Xc / n, X


def test_bic_score_by_hand() -> None:
    S = np.array([[2.0, 1.0], [1.0, 1.5]])
    n = 100
    A = np.array([[0, 1], [0, 0]])
    r1 = 1.5 - 1.0**2 / 2.0  # residual variance of x1 on x0
    expected = 0.5 * n * (np.log(2.0) + np.log(r1)) + 0.5 * np.log(n)
    assert bic_score(S, n, A, "unequal") == pytest.approx(expected)
    expected_ev = 0.5 * n * 2 * np.log((2.0 + r1) / 2) + 0.5 * np.log(n)
    assert bic_score(S, n, A, "equal") == pytest.approx(expected_ev)


def test_ols_weights_match_lstsq() -> None:
    S, X = chain_data()
    A = np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]])
    W = ols_weights(S, A)
    Xc = X - X.mean(0)
    coef, *_ = np.linalg.lstsq(Xc[:, :2], Xc[:, 2], rcond=None)
    np.testing.assert_allclose(W[:2, 2], coef, atol=1e-10)


@pytest.mark.parametrize("start", ["empty", "reversed", "complete"])
def test_hill_climb_recovers_equal_variance_chain(start: str) -> None:
    S, _ = chain_data()
    true = np.array([[0, 1, 0], [0, 0, 1], [0, 0, 0]], bool)
    A0 = {"empty": np.zeros((3, 3)), "reversed": true.T, "complete": np.triu(np.ones((3, 3)), 1)}
    W = hill_climb(S, 2000, A0[start], noise="equal")
    np.testing.assert_array_equal(W != 0, true)


def test_hill_climb_unequal_noise_finds_the_equivalence_class() -> None:
    S, _ = chain_data()
    W = hill_climb(S, 2000, np.zeros((3, 3)), noise="unequal")
    skeleton = (W != 0) | (W != 0).T
    np.testing.assert_array_equal(skeleton, [[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    assert is_dag(W)
    assert not (W[0, 1] == 0 and W[2, 1] == 0 and W[1, 0] != 0 and W[1, 2] != 0)  # no collider


def test_hill_climb_respects_allowed_and_required() -> None:
    S, _ = chain_data()
    allowed = np.ones((3, 3), bool)
    allowed[0, 1] = False
    required = np.zeros((3, 3), bool)
    required[0, 2] = True
    W = hill_climb(S, 2000, required, noise="equal", allowed=allowed, required=required)
    assert W[0, 1] == 0 and W[0, 2] != 0


def test_hill_climb_rejects_cyclic_start() -> None:
    S, _ = chain_data()
    with pytest.raises(GraphError, match="acyclic"):
        hill_climb(S, 100, np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]]))


def test_order_dag_is_complete_order() -> None:
    W = np.array([[0, 0.0, 0.0], [0.9, 0, 0.0], [0.0, 0.5, 0]])  # 1 -> 0, 2 -> 1
    O = order_dag(W)
    assert O[2, 1] and O[1, 0] and O[2, 0] and O.sum() == 3


def test_refine_picks_best_scoring_start_and_returns_dag() -> None:
    S, _ = chain_data()
    bad = np.array([[0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]])  # reversed chain as the "solver path"
    W, scores = refine(S, 2000, [bad], 0.3, noise="equal")
    assert is_dag(W)
    np.testing.assert_array_equal(W != 0, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert min(scores.values()) == pytest.approx(bic_score(S, 2000, W != 0, "equal"))


def test_refine_single_start_climbs_from_the_thresholded_graph_only() -> None:
    S, _ = chain_data()
    near = np.array([[0, 0.9, 0.4], [0, 0, 0.8], [0, 0, 0]])  # chain plus a spurious 0 -> 2
    W, scores = refine(S, 2000, [near], 0.3, noise="equal", multistart=False)
    assert set(scores) == {"threshold@0"}
    np.testing.assert_array_equal(W != 0, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])


def test_equal_variance_order_is_a_causal_order() -> None:
    from dagforge.search import equal_variance_order
    from dagforge.simulate import simulate

    sim = simulate(graph="er", k=2, d=12, n=20000, sem="linear", noise="gauss",
                   rng=np.random.default_rng(3))
    Xc = sim.X - sim.X.mean(0)
    order = equal_variance_order(Xc.T @ Xc / len(Xc))
    rank = np.empty(12, dtype=int)
    rank[order] = np.arange(12)
    src, dst = np.nonzero(sim.B)
    assert sorted(order.tolist()) == list(range(12))
    assert np.all(rank[src] < rank[dst])  # every true edge points forward


def test_kicks_never_worsen_the_score_and_are_reproducible() -> None:
    from dagforge.simulate import simulate

    sim = simulate(graph="er", k=4, d=15, n=1000, sem="linear", noise="gauss",
                   rng=np.random.default_rng(1))
    X = (sim.X - sim.X.mean(0)) / sim.X.std(0)
    S = X.T @ X / len(X)
    rng_path = np.random.default_rng(0)
    path = [rng_path.normal(scale=0.3, size=(15, 15))]
    _, s0 = refine(S, 1000, path, 0.3, noise="unequal", gamma=1.0)
    W1, s1 = refine(S, 1000, path, 0.3, noise="unequal", gamma=1.0, kicks=10,
                    rng=np.random.default_rng(5))
    W2, _ = refine(S, 1000, path, 0.3, noise="unequal", gamma=1.0, kicks=10,
                   rng=np.random.default_rng(5))
    assert s1["kicks"] <= min(s0.values()) + 1e-9
    assert bic_score(S, 1000, W1 != 0, "unequal", 1.0, 1.0) == pytest.approx(s1["kicks"])
    np.testing.assert_array_equal(W1, W2)
    assert is_dag(W1)
    with pytest.raises(ValueError, match="rng"):
        refine(S, 1000, path, 0.3, kicks=1)


def test_residual_variances_survive_a_billionfold_variance_range() -> None:
    """A chain x0 -> ... -> x8 with weight 4: var(x8) is about 4e9 times var(x0), and
    the textbook inv(S_PP) formula returned residual variances near 0 for it."""
    rng = np.random.default_rng(0)
    n, d = 5000, 9
    X = np.zeros((n, d))
    X[:, 0] = rng.normal(size=n)
    for k in range(1, d):
        X[:, k] = 4.0 * X[:, k - 1] + rng.normal(size=n)
    Xc = X - X.mean(0)
    S = Xc.T @ Xc / n
    A = np.eye(d, k=1, dtype=bool)  # the true chain
    # residual variances from the data by least squares (QR: no squared condition number)
    for j in range(1, d):
        resid = np.linalg.lstsq(Xc[:, :j], Xc[:, j], rcond=None)[1][0] / n
        assert resid == pytest.approx(1.0, rel=0.1)
    np.testing.assert_allclose(np.diag(ols_weights(S, A), k=1), 4.0, atol=0.05)
    # the score of the true graph uses residual variances close to 1 (the noise variance)
    per_edge = edge_penalty(n, d, 1.0, 0.0)
    fit = bic_score(S, n, A, "unequal", 1.0, 0.0) - per_edge * A.sum()
    assert fit / (0.5 * n) == pytest.approx(np.log(np.diag(S)[0]), abs=0.2)
    # and hill climbing from the empty graph finds the chain's equivalence class
    W = hill_climb(S, n, np.zeros((d, d)), noise="unequal")
    np.testing.assert_array_equal((W != 0) | (W != 0).T, A | A.T)


def test_smallest_is_the_finite_prefix_of_a_stable_argsort() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        x = rng.integers(0, 5, size=rng.integers(1, 60)).astype(float)  # many ties
        x[rng.random(x.size) < 0.3] = np.inf
        k = int(rng.integers(1, 20))
        full = np.argsort(x, kind="stable")[:k]
        np.testing.assert_array_equal(_smallest(x, k, 0.0), full[np.isfinite(x[full])])
        # values moved by rounding keep the order of the exact ones
        noisy = x * (1 + 1e-13 * rng.standard_normal(x.size))
        np.testing.assert_array_equal(_smallest(noisy, k, 1e-9), _smallest(x, k, 0.0))
